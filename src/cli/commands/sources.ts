import type { Command } from '../command.js';
import { toJson } from '../json.js';
import { sourcesTable } from '../views/sources-view.js';
import { style } from '../views/table.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const sources: Command = {
  name: 'sources',
  summary: 'list the actor sources loaded in the system',
  help: `usage: thespis sources [--json] [--admin host:port] [--secret-file F]

Lists the system's sources as a table: the hash, the state (loaded, or pending
while the source authority validates it), how many files, where it was loaded
from, since when (local time), and what the authority said of it. A source
unloaded or rejected is no longer listed. --json prints the status() object's
sources list instead, for tools.

${TARGET_HELP}`,
  options: { json: { type: 'boolean' }, ...TARGET_OPTIONS },
  positionals: { min: 0, max: 0 },
  inShell: true,

  async run(args, context) {
    const system = await context.system(args);
    const { sources: list = [], sourceAuthority } = await system.status();
    if (args.flag('json')) {
      context.out.write(toJson(list, 2) + '\n');
      return;
    }
    const look = style(context.colour);
    const authority = sourceAuthority === null ? look.warn('none: loads are ignored until one is registered') : sourceAuthority;
    context.out.write(`${sourcesTable(list, look)}\n\n  ${look.dim('source authority')}  ${authority}\n`);
  },
};
