import type { Command } from '../command.js';
import { MESSAGE_HELP, targetAndMessage } from '../message-target.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const tell: Command = {
  name: 'tell',
  summary: 'send a message to an actor (no reply expected)',
  help: `usage: thespis tell <address|name:G> <json> [--admin host:port] [--secret-file F]

Sends the message and returns once the system has it. Replies the actor sends
back go to this command's endpoint, which is gone when it returns (they become
dead letters): use ask for an answer.

${MESSAGE_HELP}

${TARGET_HELP}`,
  options: { ...TARGET_OPTIONS },
  positionals: { min: 2, max: 2 },
  inShell: true,

  async run(args, context) {
    const { target, message } = targetAndMessage(args);
    const system = await context.system(args);
    system.tell(target, message);
    // A round trip on the same connection: once it is answered, the system
    // has read the message, and closing the connection cannot lose it.
    await system.status();
  },
};
