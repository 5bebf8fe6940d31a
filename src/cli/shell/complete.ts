/**
 * Tab completion in the shell: command names at the start of a line, a
 * command's subcommands as its first argument, and its options after it.
 * Anything else is JavaScript (null: the REPL's own completion).
 */
import type { Command } from '../command.js';

export function completeCommand(line: string, commands: readonly Command[]): [string[], string] | null {
  const words = line.trimStart().split(/\s+/);
  const current = words[words.length - 1]!;
  if (words.length === 1) {
    const names = [...commands.map((c) => c.name), 'help'].filter((name) => name.startsWith(current)).sort();
    return names.length === 0 ? null : [names, current];
  }
  const command = commands.find((c) => c.name === words[0]);
  if (command === undefined) return null;
  if (!current.startsWith('-')) {
    const first = words.length === 2 ? (command.subcommands ?? []).filter((name) => name.startsWith(current)) : [];
    return [[...first].sort(), current];
  }
  const options = [...Object.keys(command.options), 'help'].map((name) => `--${name}`).filter((option) => option.startsWith(current)).sort();
  return [options, current];
}
