/**
 * `thespis <command> ...`: finds the command in the table and runs it with a
 * context whose client (for commands that talk to a system) is connected on
 * first use and closed afterwards.
 */
import type { ActorSystemClient } from '../index.js';
import type { Args } from './args.js';
import type { Command, CommandContext } from './command.js';
import { COMMANDS } from './commands/index.js';
import { runCommand } from './run-command.js';
import { wantsColour } from './views/table.js';
import { connectTo, TARGET_HELP } from './target.js';

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const [first, ...rest] = argv;
  const out = process.stdout;
  const err = process.stderr;
  if (first === undefined) {
    err.write(overview(COMMANDS));
    return 2;
  }
  if (first === 'help' || first === '--help' || first === '-h') {
    const about = rest[0] === undefined ? undefined : COMMANDS.find((c) => c.name === rest[0]);
    if (rest[0] !== undefined && about === undefined) return unknown(rest[0], err);
    out.write(about === undefined ? overview(COMMANDS) : `${about.help}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === (first === '--version' ? 'version' : first));
  if (command === undefined) return unknown(first, err);

  const session: { client: Promise<ActorSystemClient> | null } = { client: null };
  const context: CommandContext = {
    out,
    err,
    env,
    cwd,
    colour: wantsColour(out, env),
    shell: false,
    commands: COMMANDS,
    system: (args: Args) => (session.client ??= connectTo(args, env, cwd)),
  };
  try {
    return await runCommand(command, rest, context);
  } finally {
    // After stop the system has closed the connection already; close is still safe.
    await session.client?.then((c) => c.close()).catch(() => undefined);
  }
}

function unknown(name: string, err: NodeJS.WritableStream): number {
  err.write(`thespis: unknown command "${name}"; see \`thespis help\`\n`);
  return 2;
}

export function overview(commands: readonly Command[]): string {
  const widest = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(widest)}  ${c.summary}`);
  return `usage: thespis <command> [arguments] [options]   (thespis <command> --help for its details)

commands:
${lines.join('\n')}

${TARGET_HELP}
`;
}
