import { CliError, type Command } from '../command.js';
import { sourceHash } from '../source-args.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const unload: Command = {
  name: 'unload',
  summary: 'unload an actor source (running actors keep running)',
  help: `usage: thespis unload <hash> [--admin host:port] [--secret-file F]

Unloads the source with this hash (what \`thespis load\` printed): no new actor
is created from it, while the actors already running from it keep running.
Exit 1 when the system has no such source loaded or being validated.

${TARGET_HELP}`,
  options: { ...TARGET_OPTIONS },
  positionals: { min: 1, max: 1 },
  inShell: true,

  async run(args, context) {
    const hash = sourceHash(args.positionals[0]!);
    const system = await context.system(args);
    if (!(await system.unloadActorSource(hash))) {
      throw new CliError(`no source ${hash} is loaded in the system (\`thespis sources\` lists those that are)`);
    }
    context.out.write(`unloaded ${hash} (actors running from it keep running)\n`);
  },
};
