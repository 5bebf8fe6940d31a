/**
 * A source's canonical bytes: what its hash is taken of, and the one form a
 * source travels in (to kernels, to other systems). A directory, a zip and a
 * tarball of the same files give the same bytes, so the same hash.
 *
 *   "thespis-source/1\n"
 *   then per file, in ascending byte order of the UTF-8 path:
 *     u32 BE path length, path (UTF-8, '/'-separated, relative), u32 BE size, content
 *
 * Only regular files count (no directories, modes, times or owners). A
 * decoder accepts exactly this form — paths valid and strictly ascending, no
 * byte left over — so no two byte strings decode to the same files.
 */
import { createHash } from 'node:crypto';
import { InvalidSourceError } from '../errors.js';
import { SOURCE_LIMITS, type SourceLimits } from './limits.js';

/** A source's files by path ('lib/util.js'), in canonical order. */
export type SourceFiles = ReadonlyMap<string, Uint8Array>;

const MAGIC = new TextEncoder().encode('thespis-source/1\n');
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The SHA-256 of `bytes`, in hex: a source's hash when they are its canonical bytes. */
export function hashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isSourceHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** Whether `bytes` start like canonical bytes (they may still be broken). */
export function looksCanonical(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The path of an archive entry or a file under a directory, made canonical
 * ('./a//b' is not accepted, './a/b' becomes 'a/b'), or an InvalidSourceError
 * saying why it cannot be part of a source: absolute, climbing out with
 * '..', a Windows drive or separator, control characters, over the limits.
 */
export function canonicalPath(raw: string, limits: SourceLimits = SOURCE_LIMITS): string {
  let path = raw;
  while (path.startsWith('./')) path = path.slice(2);
  const why = pathProblem(path, limits);
  if (why !== null) throw new InvalidSourceError(`entry "${printable(raw)}" ${why}`);
  return path;
}

function pathProblem(path: string, limits: SourceLimits): string | null {
  if (path === '') return 'has an empty path';
  if (path.startsWith('/')) return 'has an absolute path';
  if (/^[A-Za-z]:/.test(path) || path.includes('\\')) return 'has a Windows path (drive letter or backslash)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'has control characters in its path';
  const segments = path.split('/');
  if (segments.includes('..')) return "climbs out of the source with '..'";
  if (segments.some((s) => s === '' || s === '.')) return "has an empty or '.' path segment";
  if (segments.length - 1 > limits.maxDepth) return `is nested deeper than ${limits.maxDepth} directories`;
  if (encoder.encode(path).length > limits.maxPathBytes) return `has a path longer than ${limits.maxPathBytes} bytes`;
  return null;
}

function printable(path: string): string {
  // eslint-disable-next-line no-control-regex
  const shown = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}

/** Orders paths by their UTF-8 bytes (JavaScript's own order is UTF-16's). */
function byBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Throws InvalidSourceError when adding one more file of `size` bytes would break a limit. */
export function checkGrowth(files: number, bytes: number, limits: SourceLimits = SOURCE_LIMITS): void {
  if (files > limits.maxFiles) throw new InvalidSourceError(`the source holds more than ${limits.maxFiles} files`);
  if (bytes > limits.maxBytes) throw new InvalidSourceError(`the source unpacks to more than ${limits.maxBytes} bytes`);
}

/** The canonical bytes of `files` (paths already canonical, see canonicalPath). */
export function encodeCanonical(files: SourceFiles, limits: SourceLimits = SOURCE_LIMITS): Uint8Array {
  const entries = [...files].map(([path, content]) => {
    const why = pathProblem(path, limits);
    if (why !== null) throw new InvalidSourceError(`entry "${printable(path)}" ${why}`);
    return { path: encoder.encode(path), content };
  });
  entries.sort((a, b) => byBytes(a.path, b.path));
  let size = MAGIC.length;
  let contentBytes = 0;
  for (const e of entries) {
    size += 8 + e.path.length + e.content.length;
    contentBytes += e.content.length;
  }
  checkGrowth(entries.length, contentBytes, limits);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  for (const e of entries) {
    view.setUint32(at, e.path.length);
    out.set(e.path, at + 4);
    at += 4 + e.path.length;
    view.setUint32(at, e.content.length);
    out.set(e.content, at + 4);
    at += 4 + e.content.length;
  }
  return out;
}

/**
 * The files in canonical bytes, checked as bytes from anywhere must be:
 * every length within the input, every path valid and strictly after the
 * one before, the limits held. Contents are views into `bytes`.
 */
export function decodeCanonical(bytes: Uint8Array, limits: SourceLimits = SOURCE_LIMITS): Map<string, Uint8Array> {
  if (!looksCanonical(bytes)) throw new InvalidSourceError('not a thespis source (its canonical form starts with "thespis-source/1")');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const files = new Map<string, Uint8Array>();
  let at = MAGIC.length;
  let previous: Uint8Array | null = null;
  let contentBytes = 0;
  const take = (what: string): Uint8Array => {
    if (at + 4 > bytes.length) throw new InvalidSourceError(`source bytes end inside a ${what} length, at byte ${at}`);
    const length = view.getUint32(at);
    if (at + 4 + length > bytes.length) throw new InvalidSourceError(`source bytes end inside a ${what} of ${length} bytes, at byte ${at}`);
    const slice = bytes.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return slice;
  };
  while (at < bytes.length) {
    const rawPath = take('path');
    if (rawPath.length > limits.maxPathBytes) throw new InvalidSourceError(`a path longer than ${limits.maxPathBytes} bytes`);
    let path: string;
    try {
      path = decoder.decode(rawPath);
    } catch {
      throw new InvalidSourceError(`a path that is not UTF-8, at byte ${at}`);
    }
    const why = pathProblem(path, limits);
    if (why !== null) throw new InvalidSourceError(`entry "${printable(path)}" ${why}`);
    if (previous !== null && byBytes(previous, rawPath) >= 0) throw new InvalidSourceError(`entry "${printable(path)}" is out of order or repeated`);
    previous = rawPath;
    const content = take('file');
    contentBytes += content.length;
    checkGrowth(files.size + 1, contentBytes, limits);
    files.set(path, content);
  }
  return files;
}
