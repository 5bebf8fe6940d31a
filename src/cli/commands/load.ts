import { CliError, type Command } from '../command.js';
import { sourcePath, SOURCE_HELP } from '../source-args.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const load: Command = {
  name: 'load',
  summary: 'load an actor source into the system and print its hash',
  help: `usage: thespis load <dir|.zip|.tgz|.tar> [--admin host:port] [--secret-file F]

Reads the source here, on this machine, and sends its bytes to the system, so
the system may run on another host and need not see the path. Prints the
source's hash (for \`thespis create <module>#<Export> --source <hash>\` and
\`thespis unload\`) once the system has it; a note on stderr says whether the
system's source authority has validated it yet.

Nothing from a source runs until the system's source authority accepts it: a
daemon started with --trust-key checks signatures (\`thespis source sign\`), or
create an authority actor of your own. A system without one ignores the load
(exit 1). A bad source (no such path, a corrupt archive, an entry outside the
source, over the size limits) fails before anything is sent.

${SOURCE_HELP}

${TARGET_HELP}`,
  options: { ...TARGET_OPTIONS },
  positionals: { min: 1, max: 1 },
  inShell: true,

  async run(args, context) {
    const path = sourcePath(args.positionals[0]!, context.cwd);
    // Checked here first, so a bad source is said without a system to talk to.
    const { readSource } = await import('../../sources/bundle/archives.js');
    const { files } = await readSource(path);
    const system = await context.system(args);
    const hash = await system.loadActorSource(path);
    // The system answers once the source is with its authority (or ignored,
    // when it has none): its status says which.
    const status = await system.status();
    const entry = status.sources?.find((s) => s.hash === hash);
    if (entry === undefined) {
      throw new CliError(
        status.sourceAuthority === null
          ? `the system has no source authority, so it ignored source ${hash}: start the daemon with --trust-key F (or create an authority actor), then load it again`
          : `the source authority rejected source ${hash} at once: the system's log says why`,
      );
    }
    context.out.write(`${hash}\n`);
    const note = entry.state === 'loaded' ? `loaded${entry.sourceInfo ? ` (${entry.sourceInfo})` : ''}` : 'being validated by the source authority (a create from it waits)';
    context.err.write(`thespis load: source ${hash.slice(0, 12)}… (${files.size} files) is ${note}\n`);
  },
};
