import type { Command } from '../command.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const shell: Command = {
  name: 'shell',
  summary: 'an interactive shell with these commands and `system` bound to a client',
  help: `usage: thespis shell [--admin host:port] [--secret-file F]

A REPL connected to the system. A line that starts with a command name runs
that command, as on the command line (status, create, tell, ask, stop, ...;
help lists them); any other line is JavaScript, with \`system\` the client
(await system.status(), await system.ask(ActorAddress.parse('name:G'), 1)).
Tab completes command names and options; history is kept in
~/.thespis_history (THESPIS_HISTORY=file, or empty for none). stop ends the
shell with the system; .exit or Ctrl-D leaves it running.

${TARGET_HELP}`,
  options: { ...TARGET_OPTIONS },
  positionals: { min: 0, max: 0 },
  inShell: false,

  async run(args, context) {
    const { runShell } = await import('../shell/repl.js');
    await runShell(await context.system(args), context);
  },
};
