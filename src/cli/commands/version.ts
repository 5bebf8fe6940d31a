import { createRequire } from 'node:module';
import type { Command } from '../command.js';

export const version: Command = {
  name: 'version',
  summary: "print thespis's version",
  help: 'usage: thespis version',
  options: {},
  positionals: { min: 0, max: 0 },
  inShell: false,

  async run(_args, context) {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
    context.out.write(`thespis ${pkg.version}\n`);
  },
};
