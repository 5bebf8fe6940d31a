// Every base runs the same conformance suite: a new base only adds its name here.
// The processes base runs it once per startup mode ("processes:<startup>").
import { ActorSystem, nativeStatus, type ActorSystemOptions, type BaseName, type Startup } from '../../dist/index.js';

const FORKED: string[] = nativeStatus().available ? ['processes:fork', 'processes:forkserver'] : [];
export const BASES: string[] = ['inline', 'workers', 'processes:spawn', ...FORKED];

/** The base name of a BASES entry ("processes:fork" → "processes"). */
export function baseOf(entry: string): BaseName {
  return entry.split(':')[0] as BaseName;
}

/** A system for one test file; records log output instead of printing it. */
export async function startSystem(entry: string, options: ActorSystemOptions = {}): Promise<{ system: ActorSystem; logs: string[] }> {
  const logs: string[] = [];
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
