import { UsageError, type Command } from '../command.js';
import { moduleUrl, splitSpec } from '../module-spec.js';
import { parsePairs } from '../pairs.js';
import { sourceHash } from '../source-args.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const create: Command = {
  name: 'create',
  summary: 'create an actor in the system and print its address',
  help: `usage: thespis create <module>#<Export> [--source <hash>] [--name G]
                      [--requirement name=value]... [--admin host:port] [--secret-file F]

Creates an actor of the class <Export> of <module> in the system and prints
its address (for tell and ask). <module> is a file path (relative to the
current directory) or a file: URL; the system imports it, so it must be
readable by the daemon's user on the daemon's host, and the class needs
\`static module = import.meta.url\` if it runs in worker threads or processes.

  --source <hash>           create from a source loaded with \`thespis load\`: <module>
                            is then a path inside the source (billing.js#Biller), and
                            the create waits while the source authority validates it
  --name G                  a global name: the actor is also name:G, and a second
                            create with that name returns the first actor
  --requirement name=value  capabilities the hosting system must have (repeatable;
                            the value is read as JSON when it is JSON); a convention
                            member that has them is chosen when this system has not

${TARGET_HELP}`,
  options: { source: { type: 'string' }, name: { type: 'string' }, requirement: { type: 'string', multiple: true }, ...TARGET_OPTIONS },
  positionals: { min: 1, max: 1 },
  inShell: true,

  async run(args, context) {
    const { module, exportName } = splitSpec(args.positionals[0]!);
    const globalName = args.string('name');
    if (globalName === '') throw new UsageError('--name needs a name');
    const requirementList = args.strings('requirement');
    const requirements =
      requirementList.length === 0 ? undefined : parsePairs(requirementList, (item) => new UsageError(`bad requirement "${item}": write it as name=value`));
    const hashText = args.string('source');
    const hash = hashText === undefined ? undefined : sourceHash(hashText);
    // Inside a source the module is the source's own path, not a file here.
    const spec = hash === undefined ? `${moduleUrl(module, context.cwd)}#${exportName}` : `${module}#${exportName}`;
    const system = await context.system(args);
    const address = await system.createActor(spec, { globalName, requirements, sourceHash: hash });
    context.out.write(`${String(address)}\n`);
  },
};

