/**
 * A command's arguments: node:util parseArgs with the command's options (and
 * --help for every command), turned into typed getters. Anything wrong with
 * the command line is a UsageError (exit code 2).
 */
import { parseArgs } from 'node:util';
import { UsageError, type OptionSpec } from './usage.js';

/** What parsing needs of a command (command.ts's Command has it). */
export interface CommandLine {
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** How many positional arguments it takes. */
  readonly positionals: { min: number; max: number };
}

type Values = Record<string, string | boolean | Array<string | boolean> | undefined>;

export class Args {
  constructor(
    readonly positionals: readonly string[],
    private readonly values: Values,
  ) {}

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Every value of an option that may be repeated, in order. */
  strings(name: string): string[] {
    const value = this.values[name];
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
  }

  /** A whole number option within [min, max]; `fallback` when absent. */
  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  }
}

export function parseCommandLine(command: CommandLine, argv: readonly string[]): Args {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
  const args = new Args(parsed.positionals, parsed.values);
  if (args.flag('help')) return args;
  const { min, max } = command.positionals;
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError(`missing ${min - count === 1 ? 'an argument' : `${min - count} arguments`}`);
  if (count > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  return args;
}

function describeParseError(error: Error & { code?: string }): string {
  const option = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option} (a value that starts with "-" goes after "--")`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing|ambiguous/.test(error.message) ? `${option} needs a value` : `${option} takes no value`;
    default:
      return error.message;
  }
}
