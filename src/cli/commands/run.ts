import type { BaseName } from '../../index.js';
import { UsageError, type Command } from '../command.js';
import { parseJson, toJson } from '../json.js';
import { moduleUrl, splitSpec } from '../module-spec.js';

export const run: Command = {
  name: 'run',
  summary: 'start a local system, create one actor, ask it one message, print the reply',
  help: `usage: thespis run <module>#<Export> [json-message] [--base workers|inline|processes] [--timeout 10000]

Starts a system in this process (no daemon, no network), creates the actor,
asks it the message (default null), prints the reply as JSON and stops.`,
  options: { base: { type: 'string' }, timeout: { type: 'string' } },
  positionals: { min: 1, max: 2 },
  inShell: false,

  async run(args, context) {
    const { module, exportName } = splitSpec(args.positionals[0]!);
    const json = args.positionals[1];
    const message = json === undefined ? null : parseJson(json, 'the message');
    const base = (args.string('base') ?? 'workers') as BaseName;
    if (!['workers', 'inline', 'processes'].includes(base)) throw new UsageError(`--base must be workers, inline or processes, got "${base}"`);
    const timeoutMs = args.integer('timeout', 10_000, 1);
    const { ActorSystem } = await import('../../index.js');
    const system = await ActorSystem.start({ base });
    try {
      const actor = await system.createActor(`${moduleUrl(module, context.cwd)}#${exportName}`);
      context.out.write(toJson(await system.ask(actor, message, timeoutMs)) + '\n');
    } finally {
      await system.shutdown();
    }
  },
};
