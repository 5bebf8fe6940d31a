/**
 * Running one command: its arguments parsed, --help answered, and whatever
 * goes wrong turned into one line that says what to do, with the exit code
 * (1 failure, 2 bad usage). Stack traces only with THESPIS_DEBUG=1.
 */
import { parseCommandLine } from './args.js';
import { CliError, type Command, type CommandContext, type Output } from './command.js';

export async function runCommand(command: Command, argv: readonly string[], context: CommandContext): Promise<number> {
  try {
    const args = parseCommandLine(command, argv);
    if (args.flag('help')) {
      context.out.write(`${command.help}\n`);
      return 0;
    }
    return (await command.run(args, context)) ?? 0;
  } catch (error) {
    return reportFailure(command.name, error, context.err, context.env);
  }
}

export function reportFailure(commandName: string, error: unknown, err: Output, env: NodeJS.ProcessEnv): number {
  const described = describe(error);
  const exitCode = described.exitCode;
  // The runtime's messages may already start with the call's name ("ask: name:g is dead").
  const message = described.message.startsWith(`${commandName}: `) ? described.message.slice(commandName.length + 2) : described.message;
  const hint = exitCode === 2 ? `; see \`thespis ${commandName} --help\`` : '';
  err.write(`thespis ${commandName}: ${message}${hint}\n`);
  if (env.THESPIS_DEBUG === '1' && error instanceof Error) err.write(`${error.stack}\n`);
  return exitCode;
}

/** The runtime's typed errors, said the way a person at a prompt can act on. */
function describe(error: unknown): { message: string; exitCode: number } {
  if (!(error instanceof Error)) return { message: String(error), exitCode: 1 };
  const line = oneLine(error.message);
  if (error instanceof CliError) return { message: line, exitCode: error.exitCode };
  switch (error.name) {
    case 'SystemConnectionError':
      return {
        message: /secret/.test(line)
          ? `${line}: give the system's secret with --secret-file F (or THESPIS_SECRET_FILE)`
          : `${line}: is it running? Start one with \`thespis start\`, or name it with --admin host:port (or THESPIS_ADMIN)`,
        exitCode: 1,
      };
    case 'ActorTimeoutError':
      return { message: `${line}: the actor did not answer in time (raise --timeout, or check that it replies to the sender)`, exitCode: 1 };
    case 'DeadActorError':
      return { message: `${line}: there is no such actor (create one with \`thespis create\`)`, exitCode: 1 };
    case 'PoisonError':
      return { message: `the actor threw on this message twice: ${line}`, exitCode: 1 };
    case 'InvalidActorAddressError':
      return { message: line, exitCode: 2 };
    default:
      return { message: error.name === 'Error' || line.startsWith(error.name) ? line : `${error.name}: ${line}`, exitCode: 1 };
  }
}

/** The text without stack frames (an error from the system may carry some), on one line. */
function oneLine(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}
