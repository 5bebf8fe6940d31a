// Every base runs the same conformance suite: a new base only adds its name here.
import { ActorSystem, type ActorSystemOptions, type BaseName } from '../../dist/index.js';

export const BASES: BaseName[] = ['inline', 'workers'];

/** A system for one test file; records log output instead of printing it. */
export async function startSystem(base: BaseName, options: ActorSystemOptions = {}): Promise<{ system: ActorSystem; logs: string[] }> {
  const logs: string[] = [];
  const system = await ActorSystem.start({
    base,
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
