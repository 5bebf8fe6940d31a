/**
 * What a user gives as a source, read where it is given (a system, a
 * client, an actor's thread): a directory becomes canonical bytes here (it
 * is walked with every link and special file refused); an archive file is
 * read as it is (bounded), for archives.ts to unpack where archives are
 * read; bytes are passed on.
 */
import { open, readdir, readFile, stat as statOf } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { canonicalPath, checkGrowth, encodeCanonical } from './canonical.js';
import { InvalidSourceError } from '../errors.js';
import { SOURCE_LIMITS, type SourceLimits } from './limits.js';

export interface SourceInput {
  /** Canonical bytes (from a directory), or an archive's bytes. */
  bytes: Uint8Array;
  /** The resolved path it came from, for the authority and logs. */
  info: string | undefined;
}

export async function readSourceInput(input: string | Uint8Array, limits: SourceLimits = SOURCE_LIMITS): Promise<SourceInput> {
  if (input instanceof Uint8Array) {
    if (input.length > limits.maxArchiveBytes) throw new InvalidSourceError(`the bytes given: more than ${limits.maxArchiveBytes} bytes`);
    return { bytes: input, info: undefined };
  }
  if (typeof input !== 'string' || input === '') throw new TypeError('a source is a path (a directory, .zip, .tgz or .tar) or its bytes (a Uint8Array)');
  const path = resolve(input);
  // The path named is followed if it is a link; links inside a directory are refused.
  const stat = await statOf(path).catch((error: NodeJS.ErrnoException) => {
    throw new InvalidSourceError(`cannot read source ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
  });
  if (stat.isDirectory()) return { bytes: encodeCanonical(await readDirectory(path, limits), limits), info: path };
  if (!stat.isFile()) throw new InvalidSourceError(`source ${path} is neither a directory nor a file`);
  if (stat.size > limits.maxArchiveBytes) throw new InvalidSourceError(`source ${path} is larger than ${limits.maxArchiveBytes} bytes`);
  return { bytes: await readFile(path), info: path };
}

// ---- directories ---------------------------------------------------------------

export async function readDirectory(root: string, limits: SourceLimits): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  let total = 0;
  const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      const full = join(dir, entry.name);
      if (entry.isSymbolicLink()) throw new InvalidSourceError(`entry "${relative}" is a link (a source holds regular files only)`);
      if (entry.isDirectory()) {
        if (depth >= limits.maxDepth) throw new InvalidSourceError(`entry "${relative}" is nested deeper than ${limits.maxDepth} directories`);
        await walk(full, relative, depth + 1);
        continue;
      }
      if (!entry.isFile()) throw new InvalidSourceError(`entry "${relative}" is not a regular file`);
      const path = canonicalPath(relative, limits);
      // Read through one handle so a file that grows meanwhile is still bounded.
      const handle = await open(full, 'r');
      try {
        const { size } = await handle.stat();
        checkGrowth(files.size + 1, total + size, limits);
        const content = new Uint8Array(size);
        let read = 0;
        while (read < size) {
          const { bytesRead } = await handle.read(content, read, size - read, read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        total += read;
        files.set(path, read === size ? content : content.subarray(0, read));
      } finally {
        await handle.close();
      }
    }
  };
  await walk(root, '', 0);
  return files;
}

