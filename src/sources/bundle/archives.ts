/**
 * Unpacking a source's bytes in memory: canonical bytes, a zip (yauzl), a
 * gzipped tar or a tar (npm's tar reader); nothing is written anywhere.
 * Every entry's path is checked (canonical.ts); links, devices and
 * encrypted entries are refused; sizes, counts and expansion ratios are
 * bounded before anything is inflated, and again while it is.
 */
import { gunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import yauzl from 'yauzl';
import { canonicalPath, checkGrowth, decodeCanonical, encodeCanonical, hashOf, looksCanonical } from './canonical.js';
import { InvalidSourceError } from '../errors.js';
import { SOURCE_LIMITS, type SourceLimits } from './limits.js';
import { readSourceInput } from './read-input.js';

export interface ReadSource {
  /** The canonical bytes (canonical.ts). */
  bytes: Uint8Array;
  hash: string;
  files: Map<string, Uint8Array>;
  /** Where it came from: the resolved path, or undefined for bytes. */
  info: string | undefined;
}

/** A source from a path (directory or archive) or from bytes; throws InvalidSourceError for a bad one. */
export async function readSource(input: string | Uint8Array, limits: SourceLimits = SOURCE_LIMITS): Promise<ReadSource> {
  const { bytes: raw, info } = await readSourceInput(input, limits);
  const files = await filesOfBytes(raw, limits, info ?? 'the bytes given');
  const bytes = looksCanonical(raw) ? raw : encodeCanonical(files, limits);
  return { bytes, hash: hashOf(bytes), files, info };
}

/** The files held in `bytes`: canonical bytes, a zip, a gzipped tar or a tar. */
export async function filesOfBytes(bytes: Uint8Array, limits: SourceLimits = SOURCE_LIMITS, what = 'the bytes given'): Promise<Map<string, Uint8Array>> {
  if (bytes.length > limits.maxArchiveBytes) throw new InvalidSourceError(`${what}: more than ${limits.maxArchiveBytes} bytes`);
  if (looksCanonical(bytes)) return decodeCanonical(bytes, limits);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length >= 4 && buffer.readUInt32BE(0) === 0x504b0304) return readZip(buffer, limits, what);
  if (buffer.length >= 4 && buffer.readUInt32BE(0) === 0x504b0506) return new Map(); // an empty zip
  if (buffer.length >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) return readTar(await gunzipBounded(buffer, limits, what), limits, what);
  if (buffer.length >= 262 && buffer.toString('latin1', 257, 262) === 'ustar') return readTar(buffer, limits, what);
  throw new InvalidSourceError(`${what}: not a source (a directory, a .zip, a .tgz, a .tar, or their bytes)`);
}

/** A directory entry holds nothing, but its path must be as safe as a file's ('./' itself is fine). */
function checkDirectoryEntry(name: string, limits: SourceLimits): void {
  let path = name.replace(/\/+$/, '');
  while (path.startsWith('./')) path = path.slice(2);
  if (path !== '' && path !== '.') canonicalPath(path, limits);
}

// ---- zip -----------------------------------------------------------------------

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

function readZip(buffer: Buffer, limits: SourceLimits, what: string): Promise<Map<string, Uint8Array>> {
  return new Promise((resolvePromise, reject) => {
    const fail = (error: unknown): void => reject(error instanceof InvalidSourceError ? error : new InvalidSourceError(`${what}: a corrupt zip (${(error as Error).message})`, { cause: error }));
    yauzl.fromBuffer(buffer, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, strictFileNames: true }, (error, zip) => {
      if (error || zip === undefined) return fail(error ?? new Error('unreadable'));
      if (zip.entryCount > limits.maxFiles * 2) {
        zip.close();
        return fail(new InvalidSourceError(`${what}: the zip has ${zip.entryCount} entries, more than a source may hold (${limits.maxFiles} files)`));
      }
      const files = new Map<string, Uint8Array>();
      let total = 0;
      let declaredTotal = 0;
      zip.on('error', fail);
      zip.on('end', () => {
        if (total > limits.ratioFloorBytes && total > buffer.length * limits.maxRatio) {
          return fail(new InvalidSourceError(`${what}: the zip unpacks to ${total} bytes, more than ${limits.maxRatio} times its size`));
        }
        resolvePromise(files);
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, true);
          const mode = entry.versionMadeBy >> 8 === 3 ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0;
          if (name.endsWith('/') || mode === S_IFDIR) {
            checkDirectoryEntry(name, limits);
            zip.readEntry();
            return;
          }
          if (mode !== 0 && mode !== S_IFREG) throw new InvalidSourceError(`entry "${name}" is ${mode === 0o120000 ? 'a link' : 'not a regular file'} (a source holds regular files only)`);
          const path = canonicalPath(name, limits);
          if (files.has(path)) throw new InvalidSourceError(`entry "${path}" appears twice`);
          if ((entry.generalPurposeBitFlag & 0x1) !== 0) throw new InvalidSourceError(`entry "${path}" is encrypted`);
          if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new InvalidSourceError(`entry "${path}" uses compression method ${entry.compressionMethod} (only stored and deflated entries are read)`);
          const size = entry.uncompressedSize;
          declaredTotal += size;
          checkGrowth(files.size + 1, declaredTotal, limits);
          if (size > limits.ratioFloorBytes && size > entry.compressedSize * limits.maxRatio) {
            throw new InvalidSourceError(`entry "${path}" unpacks to ${size} bytes, more than ${limits.maxRatio} times its packed size`);
          }
          zip.openReadStream(entry, (streamError, stream) => {
            if (streamError || stream === undefined) return fail(streamError ?? new Error('no stream'));
            const chunks: Buffer[] = [];
            let got = 0;
            stream.on('data', (chunk: Buffer) => {
              got += chunk.length;
              chunks.push(chunk);
            });
            // yauzl checks the inflated size against the declared one (validateEntrySizes).
            stream.on('error', fail);
            stream.on('end', () => {
              total += got;
              files.set(path, Buffer.concat(chunks, got));
              zip.readEntry();
            });
          });
        } catch (entryError) {
          zip.close();
          fail(entryError);
        }
      });
      zip.readEntry();
    });
  });
}

// ---- tar -------------------------------------------------------------------------

function gunzipBounded(buffer: Buffer, limits: SourceLimits, what: string): Promise<Buffer> {
  // A tar adds a 512-byte header (and up to 511 of padding) per file to its contents.
  const tarCap = limits.maxBytes + 1024 * (limits.maxFiles + 2);
  const cap = Math.min(tarCap, Math.max(limits.ratioFloorBytes, buffer.length * limits.maxRatio));
  return new Promise((resolvePromise, reject) => {
    gunzip(buffer, { maxOutputLength: cap }, (error, out) => {
      if (error === null) return resolvePromise(out);
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return reject(new InvalidSourceError(`${what}: the archive unpacks to more than ${cap} bytes (limits: ${limits.maxBytes} bytes, ${limits.maxRatio} times its packed size)`));
      }
      reject(new InvalidSourceError(`${what}: a corrupt gzip stream (${error.message})`, { cause: error }));
    });
  });
}

function readTar(tar: Buffer, limits: SourceLimits, what: string): Promise<Map<string, Uint8Array>> {
  return new Promise((resolvePromise, reject) => {
    const files = new Map<string, Uint8Array>();
    let total = 0;
    let failed = false;
    let entries = 0;
    const parser = new Parser({ strict: true });
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      parser.abort(error instanceof Error ? error : new Error(String(error)));
      reject(error instanceof InvalidSourceError ? error : new InvalidSourceError(`${what}: a corrupt tar (${(error as Error).message})`, { cause: error }));
    };
    parser.on('entry', (entry: ReadEntry) => {
      if (failed) return entry.resume();
      try {
        if (++entries > limits.maxFiles * 2) throw new InvalidSourceError(`${what}: the tar has more entries than a source may hold (${limits.maxFiles} files)`);
        const name = entry.path;
        if (entry.type === 'Directory') {
          checkDirectoryEntry(name, limits);
          return entry.resume();
        }
        if (entry.type === 'SymbolicLink' || entry.type === 'Link') throw new InvalidSourceError(`entry "${name}" is a link (a source holds regular files only)`);
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') throw new InvalidSourceError(`entry "${name}" is not a regular file (${entry.type})`);
        const path = canonicalPath(name, limits);
        if (files.has(path)) throw new InvalidSourceError(`entry "${path}" appears twice`);
        const size = entry.size ?? 0;
        checkGrowth(files.size + 1, total + size, limits);
        total += size;
        const content = new Uint8Array(size);
        let at = 0;
        entry.on('data', (chunk: Buffer) => {
          if (at + chunk.length > size) return fail(new InvalidSourceError(`entry "${path}" holds more than its declared ${size} bytes`));
          content.set(chunk, at);
          at += chunk.length;
        });
        entry.on('end', () => files.set(path, content));
      } catch (error) {
        entry.resume();
        fail(error);
      }
    });
    parser.on('warn', (code: string, message: string | Error) => fail(new Error(`${code}: ${typeof message === 'string' ? message : message.message}`)));
    parser.on('error', fail);
    parser.on('end', () => {
      if (!failed) resolvePromise(files);
    });
    parser.end(tar);
  });
}
