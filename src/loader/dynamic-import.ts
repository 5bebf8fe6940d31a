/**
 * `import(url)` for the runtime's own loading of modules (actor classes,
 * calls, served modules). On a remote host the runtime is a vm.Script that
 * may come from a V8 code cache, and on Node 20 functions deserialised from a
 * cache made in another process lose the host-defined options `import()`
 * needs ("A dynamic import callback was not specified"). So stage 2, which is
 * compiled from source (remote/runtime-pack.ts), lends the runtime an
 * `import()` of its own under this symbol; everywhere else it is the plain one.
 */
export const LENT_IMPORT = Symbol.for('thespis.remote.import');

type Import = (url: string) => Promise<Record<string, unknown>>;

export function dynamicImport(url: string): Promise<Record<string, unknown>> {
  const lent = (globalThis as Record<symbol, Import | undefined>)[LENT_IMPORT];
  return lent !== undefined ? lent(url) : (import(url) as Promise<Record<string, unknown>>);
}
