// Helpers for the loadable-sources tests: sources as directories, zips and
// tarballs made here (zips with yazl, tar headers with tar's Header, so a
// test can make the hostile archives a user could hand us), and temp dirs
// removed after each test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import yazl from 'yazl';

export type Files = Record<string, string | Uint8Array>;

const made: string[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'thespis-sources-'));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A directory holding `files`. */
export function sourceDir(files: Files): string {
  const dir = tempDir();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

interface ZipEntry {
  path: string;
  content: string | Uint8Array;
  mode?: number;
  compress?: boolean;
}

/** A zip of the entries (`mode` may make one a link; names are checked by yazl, see `renamed`). */
export function zipBytes(entries: Files | ZipEntry[]): Promise<Buffer> {
  const list: ZipEntry[] = Array.isArray(entries) ? entries : Object.entries(entries).map(([path, content]) => ({ path, content }));
  const zip = new yazl.ZipFile();
  for (const e of list) zip.addBuffer(Buffer.from(e.content), e.path, { mode: e.mode, compress: e.compress ?? true, mtime: new Date(0) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** The same bytes with every occurrence of `from` replaced by `to` (same length): a name yazl would refuse to write. */
export function renamed(bytes: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('renamed: same length only');
  const out = Buffer.from(bytes);
  const needle = Buffer.from(from);
  for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 1)) out.write(to, at);
  return out;
}

interface TarEntry {
  path: string;
  content?: string | Uint8Array;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  linkpath?: string;
}

/** A tar of the entries (any names and types), gzipped unless `gzip` is false. */
export function tarBytes(entries: Files | TarEntry[], gzip = true): Buffer {
  const list: TarEntry[] = Array.isArray(entries) ? entries : Object.entries(entries).map(([path, content]) => ({ path, content }));
  const blocks: Buffer[] = [];
  for (const e of list) {
    const content = Buffer.from(e.content ?? '');
    const type = e.type ?? 'File';
    const header = new Header({ path: e.path, type, size: type === 'File' ? content.length : 0, mode: type === 'Directory' ? 0o755 : 0o644, linkpath: e.linkpath, mtime: new Date(0), uid: 0, gid: 0 });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File') {
      blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}
