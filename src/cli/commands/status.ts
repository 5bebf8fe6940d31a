import type { Command } from '../command.js';
import { toJson } from '../json.js';
import { renderStatus } from '../views/status-view.js';
import { style } from '../views/table.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const status: Command = {
  name: 'status',
  summary: 'show the system: capabilities, convention, kernels, dead letters, sources',
  help: `usage: thespis status [--json] [--admin host:port] [--secret-file F]

Prints the system's status as tables: the system (with its source authority),
its capabilities, the members of its convention, its kernels with their actor
counts, its dead letters, remote hosts and loadable sources. --json prints the
status() object instead, for tools.

${TARGET_HELP}`,
  options: { json: { type: 'boolean' }, ...TARGET_OPTIONS },
  positionals: { min: 0, max: 0 },
  inShell: true,

  async run(args, context) {
    const system = await context.system(args);
    const current = await system.status();
    context.out.write(args.flag('json') ? toJson(current, 2) + '\n' : renderStatus(current, style(context.colour)));
  },
};
