/**
 * The V8 code cache that travels with the runtime (runtime-pack.ts): what
 * identifies the node it is for, the cache file's layout, and how the build
 * asks a booted host for the bytecode it compiled
 * (scripts/remote-code-cache.mjs).
 */

/** Where stage 2 keeps the runtime's vm.Script (for createCachedData), when it made one. */
export const RUNTIME_SCRIPT = Symbol.for('thespis.remote.script');

/** RemoteHost's method that asks its host for its code cache (for the build, not for users). */
export const CODE_CACHE = Symbol('thespis.remote.codeCache');

export interface CodeCache {
  /** The node that made it: `version arch v8`. */
  tag: string;
  cache: Uint8Array;
}

/** What identifies the node a code cache is for. */
export function codeCacheTag(): string {
  return `${process.version} ${process.arch} ${process.versions.v8}`;
}

/** The cache file's bytes: a 4-byte length, the tag, the cache. */
export function encodeCodeCache({ tag, cache }: CodeCache): Buffer {
  const text = Buffer.from(tag, 'latin1');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(text.length);
  return Buffer.concat([head, text, cache]);
}

export function decodeCodeCache(file: Buffer): CodeCache {
  const n = file.readUInt32BE(0);
  return { tag: file.toString('latin1', 4, 4 + n), cache: file.subarray(4 + n) };
}
