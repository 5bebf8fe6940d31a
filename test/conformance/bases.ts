// Every base runs the same conformance suite: a new base only adds its name here.
// The processes base runs it once per startup mode ("processes:<startup>").
// "client:<base>" runs it across the network: the suite talks through
// ActorSystem.connect to a system of that base in another process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ActorSystem, nativeStatus, type ActorSystemOptions, type BaseName, type Startup } from '../../dist/index.js';

const FORKED: string[] = nativeStatus().available ? ['processes:fork', 'processes:forkserver'] : [];
export const BASES: string[] = ['inline', 'workers', 'processes:spawn', ...FORKED, 'client:workers'];

const SYSTEM_PROC = new URL('../fixtures/net/system-proc.mjs', import.meta.url).pathname;

/**
 * A system of `base` in a process of its own and a client of it, which the
 * tests use as if it were the system (shutting the client's system down ends
 * the process). Its log lines are collected like a local system's.
 */
async function startRemote(base: BaseName, options: ActorSystemOptions, logs: string[]): Promise<ActorSystem> {
  const { logger: _logger, ...rest } = options;
  const child = spawn(process.execPath, [SYSTEM_PROC, JSON.stringify({ base, workers: 2, admin: { port: 0 }, ...rest })], { stdio: ['pipe', 'pipe', 'pipe'] });
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line.replace(/^\[(\w+)\] /, '$1 ')));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the system process exited (${code}): ${logs.join('\n')}`)));
  });
  const { adminAddress } = JSON.parse(first) as { adminAddress: string };
  const client = await ActorSystem.connect(adminAddress);
  // The process ends with its system: shutdown() of the client stops it; if a test forgets, closing stdin does.
  const shutdown = client.shutdown.bind(client);
  (client as unknown as { shutdown(): Promise<void> }).shutdown = async () => {
    await shutdown().catch(() => undefined);
    child.stdin!.end();
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  };
  return client as unknown as ActorSystem;
}

/** The base name of a BASES entry ("processes:fork" → "processes", "client:workers" → "workers"). */
export function baseOf(entry: string): BaseName {
  const [first, second] = entry.split(':');
  return (first === 'client' ? second : first) as BaseName;
}

/** A system for one test file; records log output instead of printing it. */
export async function startSystem(entry: string, options: ActorSystemOptions = {}): Promise<{ system: ActorSystem; logs: string[] }> {
  const logs: string[] = [];
  if (entry.startsWith('client:')) return { system: await startRemote(entry.split(':')[1] as BaseName, options, logs), logs };
  const [base, startup] = entry.split(':') as [BaseName, Startup | undefined];
  const system = await ActorSystem.start({
    base,
    startup,
    workers: 2,
    logger: (record) => logs.push(`${record.level} ${record.source} ${record.message}`),
    ...options,
  });
  return { system, logs };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
