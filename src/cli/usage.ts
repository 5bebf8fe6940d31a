/**
 * What the command line is made of, below the commands themselves: an
 * option's spec and the errors a command line gets. Its own module so that
 * args.ts (parsing) and command.ts (what a command is) do not import each
 * other.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** May be given more than once (values collected in order). */
  multiple?: boolean;
  short?: string;
}

/** A failure the user can act on: printed as one line, with this exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The command line itself is wrong (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}
