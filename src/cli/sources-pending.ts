/**
 * Commands of loadable sources, which this release does not have yet: each
 * answers so (exit code 2) instead of pretending. The sources work replaces
 * commands/load.ts, unload.ts, sources.ts and source.ts, and then this file.
 */
import { UsageError, type Command } from './command.js';

export function notAvailableYet(name: string, usage: string, summary: string, inShell: boolean): Command {
  return {
    name,
    summary: `${summary} (not available yet)`,
    help: `usage: thespis ${usage}\n\n${summary[0]!.toUpperCase()}${summary.slice(1)}. Loadable sources are not available in this release yet.`,
    options: {},
    positionals: { min: 0, max: Number.MAX_SAFE_INTEGER },
    inShell,
    async run() {
      throw new UsageError('loadable sources are not available in this release yet');
    },
  };
}
