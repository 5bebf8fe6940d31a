/** Which way a process actor starts, checked where it is asked for. */
import { native, requireNative } from '../native.js';
import type { Startup } from './process/process-protocol.js';

const STARTUPS: readonly Startup[] = ['spawn', 'fork', 'forkserver'];

/** `forkserver` where the addon is built (a forked child is ready in about a millisecond), else `spawn`. */
export function defaultStartup(): Startup {
  return native !== null ? 'forkserver' : 'spawn';
}

/**
 * `requested`, or `fallback` when it is undefined. Throws TypeError for an
 * unknown mode and NativeAddonMissingError when a forked mode is asked for
 * without the addon (it says how to build it).
 */
export function checkStartup(requested: unknown, fallback: Startup): Startup {
  const startup = requested ?? fallback;
  if (!STARTUPS.includes(startup as Startup)) {
    throw new TypeError(`startup must be 'spawn', 'fork' or 'forkserver', got ${String(requested)}`);
  }
  if (startup !== 'spawn') requireNative(`startup '${String(startup)}'`);
  return startup as Startup;
}
