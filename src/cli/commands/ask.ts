import type { Command } from '../command.js';
import { toJson } from '../json.js';
import { MESSAGE_HELP, targetAndMessage } from '../message-target.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const ask: Command = {
  name: 'ask',
  summary: 'send a message to an actor and print its reply as JSON',
  help: `usage: thespis ask <address|name:G> <json> [--timeout 10000] [--admin host:port] [--secret-file F]

Sends the message and prints the first reply as JSON (an address in a reply is
printed as its text form). Fails (exit 1) when no reply comes within --timeout
ms, when there is no such actor, or when the actor threw on the message twice.

${MESSAGE_HELP}

${TARGET_HELP}`,
  options: { timeout: { type: 'string' }, ...TARGET_OPTIONS },
  positionals: { min: 2, max: 2 },
  inShell: true,

  async run(args, context) {
    const { target, message } = targetAndMessage(args);
    const timeoutMs = args.integer('timeout', 10_000, 1);
    const system = await context.system(args);
    const reply = await system.ask(target, message, timeoutMs);
    context.out.write(toJson(reply) + '\n');
  },
};
