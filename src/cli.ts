#!/usr/bin/env node
/** The `thespis` command (src/cli/ has the commands, one module each). */
import { main } from './cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`thespis: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
