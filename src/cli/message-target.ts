/** The <address> <json> pair that tell and ask take. */
import { ActorAddress } from '../address.js';
import type { Args } from './args.js';
import { UsageError } from './command.js';
import { parseJson } from './json.js';

export function targetAndMessage(args: Args): { target: ActorAddress; message: unknown } {
  const [text, json] = args.positionals as [string, string];
  let target: ActorAddress;
  try {
    target = ActorAddress.parse(text);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}: give an address that create printed, or name:<global name>`);
  }
  return { target, message: parseJson(json, 'the message') };
}

export const MESSAGE_HELP = `<address> is what \`thespis create\` printed, or name:G for the actor created
with --name G. <json> is the message as JSON: quote it for the shell, as in
'{"op":"add","n":2}' or '"hello"'; one that starts with "-" goes after "--".`;
