#!/usr/bin/env node
/**
 * The `thespis` command. `run` starts a local system, creates one actor, asks
 * it one message and prints the reply. The admin-daemon commands (start,
 * status, tell, ask, load, shell, stop) need the admin's network port, which
 * this release does not have yet: they say so instead of pretending.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ActorSystem, type BaseName } from './index.js';

const DAEMON_COMMANDS = new Set(['start', 'status', 'tell', 'ask', 'load', 'shell', 'stop']);

const USAGE = `usage:
  thespis run <module>#<Export> [json-message] [--base workers|inline] [--timeout ms]
      start a local system, create the actor, ask it the message (default null), print the reply
  thespis version
admin-daemon commands (${[...DAEMON_COMMANDS].join(', ')}) are not available in this release.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(USAGE + '\n');
    return command === undefined ? 2 : 0;
  }
  if (command === 'version' || command === '--version') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../package.json') as { version: string };
    process.stdout.write(`thespis ${pkg.version}\n`);
    return 0;
  }
  if (DAEMON_COMMANDS.has(command)) {
    process.stderr.write(`thespis ${command}: the admin daemon is not available in this release\n`);
    return 2;
  }
  if (command === 'run') return run(rest);
  process.stderr.write(`thespis: unknown command "${command}"\n${USAGE}\n`);
  return 2;
}

async function run(args: string[]): Promise<number> {
  const options = { base: 'workers' as BaseName, timeout: 10_000 };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--base') options.base = args[++i] as BaseName;
    else if (args[i] === '--timeout') options.timeout = Number(args[++i]);
    else positional.push(args[i]!);
  }
  const [spec, json] = positional;
  const hash = spec?.lastIndexOf('#') ?? -1;
  if (spec === undefined || hash <= 0) {
    process.stderr.write(`thespis run: needs <module>#<Export>\n${USAGE}\n`);
    return 2;
  }
  let message: unknown = null;
  if (json !== undefined) {
    try {
      message = JSON.parse(json);
    } catch (error) {
      process.stderr.write(`thespis run: the message is not valid JSON: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const file = spec.slice(0, hash);
  const url = file.startsWith('file:') ? file : pathToFileURL(isAbsolute(file) ? file : resolve(file)).href;
  const system = await ActorSystem.start({ base: options.base });
  try {
    const actor = await system.createActor(`${url}#${spec.slice(hash + 1)}`);
    const reply = await system.ask(actor, message, options.timeout);
    process.stdout.write(JSON.stringify(reply, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) + '\n');
    return 0;
  } catch (error) {
    process.stderr.write(`thespis run: ${(error as Error).name}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await system.shutdown();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`thespis: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
