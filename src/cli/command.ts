/**
 * What a `thespis` command is, and what it is given to run. Each command is
 * one module under commands/ exporting a Command; commands/index.ts lists
 * them. The same modules serve the command line and the shell: the context
 * says where output goes and which system to talk to.
 */
import type { ActorSystemClient } from '../index.js';
import type { Args } from './args.js';
import type { OptionSpec } from './usage.js';

export { CliError, UsageError, type OptionSpec } from './usage.js';

export interface Command {
  readonly name: string;
  /** One line for `thespis help`. */
  readonly summary: string;
  /** What `thespis <name> --help` prints: the usage line first, then the details. */
  readonly help: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments it takes. */
  readonly positionals: { min: number; max: number };
  /** Offered inside `thespis shell`. */
  readonly inShell: boolean;
  /** Words its first argument may be (`source sign|verify|keygen`), for completion. */
  readonly subcommands?: readonly string[];
  /** Resolves to the exit code (0 when nothing is returned). */
  run(args: Args, context: CommandContext): Promise<number | void>;
}

export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface CommandContext {
  readonly out: Output;
  readonly err: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Relative paths on the command line are relative to this. */
  readonly cwd: string;
  /** Colour and emphasis in what is printed (only for a terminal). */
  readonly colour: boolean;
  /** Inside `thespis shell`. */
  readonly shell: boolean;
  /** Every command (for help and the shell). */
  readonly commands: readonly Command[];
  /**
   * A client of the system the command is for (--admin / THESPIS_ADMIN,
   * --secret-file / THESPIS_SECRET_FILE). On the command line it is
   * connected on first use and closed after the command; in the shell it is
   * the shell's own.
   */
  system(args: Args): Promise<ActorSystemClient>;
  /** Told by a command that shut the system down (the shell then ends). */
  systemStopped?(): void;
}
