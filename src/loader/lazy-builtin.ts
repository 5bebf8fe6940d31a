/**
 * Node builtins loaded on first use instead of at import. A remote host
 * evaluates the whole runtime at boot, and a static import of a builtin the
 * boot does not need (child_process, zlib, crypto, fs/promises,
 * worker_threads: what starting hosts behind it, files and module forwarding
 * use) costs its first load there, 3–13 ms of a boot measured here; most
 * hosts never use some of them.
 */
import { createRequire } from 'node:module';

type Load = (id: string) => unknown;
const load: Load =
  (process as { getBuiltinModule?: Load }).getBuiltinModule?.bind(process) ?? // Node >= 20.16
  createRequire(import.meta.url);

/** A getter for builtin `id` that loads it the first time it is called. */
export function lazyBuiltin<T>(id: string): () => T {
  let module: T | undefined;
  return () => (module ??= load(id) as T);
}
