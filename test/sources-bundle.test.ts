// Reading a source: a directory, a zip, a tarball (gzipped or not) and the
// canonical bytes of the same files give the same hash; bad bundles (corrupt,
// entries that climb out or are links, bombs, too many entries) fail with
// InvalidSourceError saying why, before anything is inflated past the limits.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidSourceError, SOURCE_LIMITS } from '../dist/index.js';
import { readSource } from '../dist/sources/bundle/archives.js';
import { decodeCanonical, encodeCanonical, hashOf } from '../dist/sources/bundle/canonical.js';
import { removeTempDirs, renamed, sourceDir, tarBytes, tempDir, zipBytes, type Files } from './sources-helpers.js';

afterEach(() => removeTempDirs());

const FILES: Files = {
  'billing.js': 'export const a = 1;\n',
  'lib/rates.js': 'export const rate = 2;\n',
  'lib/deep/x.json': '{"x":1}',
  'README.md': '# billing\n',
};

const invalid = async (input: string | Uint8Array, pattern: RegExp): Promise<void> => {
  const error = await readSource(input).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidSourceError);
  expect((error as Error).message).toMatch(pattern);
};

describe('one source, one hash', () => {
  it('a directory, its zip, its tarball (gzipped or not) and its canonical bytes give the same hash and files', async () => {
    const dir = sourceDir(FILES);
    const fromDir = await readSource(dir);
    const zip = await zipBytes(FILES);
    const tgz = tarBytes([{ path: './', type: 'Directory' }, { path: './lib/', type: 'Directory' }, ...Object.entries(FILES).map(([path, content]) => ({ path: `./${path}`, content }))]);
    const tar = tarBytes(FILES, false);
    const tmp = tempDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(tmp, 'b.zip'), zip);
    writeFileSync(join(tmp, 'b.tgz'), tgz);
    const hashes = await Promise.all([readSource(zip), readSource(tgz), readSource(tar), readSource(fromDir.bytes), readSource(join(tmp, 'b.zip')), readSource(join(tmp, 'b.tgz'))]);
    for (const read of hashes) expect(read.hash).toBe(fromDir.hash);
    expect(fromDir.hash).toBe(hashOf(fromDir.bytes));
    expect(fromDir.hash).toMatch(/^[0-9a-f]{64}$/);
    expect([...fromDir.files.keys()].sort()).toEqual(Object.keys(FILES).sort());
    expect(new TextDecoder().decode(fromDir.files.get('lib/rates.js'))).toBe(FILES['lib/rates.js']);
    expect(fromDir.info).toBe(dir);
  });

  it('another file, or another byte in one, is another hash; the order files come in is not', async () => {
    const base = await readSource(await zipBytes(FILES));
    const reversed = await readSource(await zipBytes(Object.fromEntries(Object.entries(FILES).reverse())));
    expect(reversed.hash).toBe(base.hash);
    expect((await readSource(await zipBytes({ ...FILES, 'billing.js': 'export const a = 2;\n' }))).hash).not.toBe(base.hash);
    expect((await readSource(await zipBytes({ ...FILES, 'extra.js': '' }))).hash).not.toBe(base.hash);
  });

  it('canonical bytes have one form: entries out of order or repeated are refused', () => {
    const entry = (path: string, content: string): Buffer => {
      const p = Buffer.from(path);
      const c = Buffer.from(content);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(p.length);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(c.length);
      return Buffer.concat([head, p, size, c]);
    };
    const magic = Buffer.from('thespis-source/1\n');
    expect([...decodeCanonical(Buffer.concat([magic, entry('a.js', '1'), entry('b.js', '2')])).keys()]).toEqual(['a.js', 'b.js']);
    expect(() => decodeCanonical(Buffer.concat([magic, entry('b.js', '2'), entry('a.js', '1')]))).toThrow(/"a\.js" is out of order or repeated/);
    expect(() => decodeCanonical(Buffer.concat([magic, entry('a.js', '1'), entry('a.js', '1')]))).toThrow(/"a\.js" is out of order or repeated/);
    expect(() => decodeCanonical(Buffer.concat([magic, entry('../a.js', '1')]))).toThrow(/climbs out/);
    expect(() => decodeCanonical(Buffer.concat([magic, entry('a.js', '1')]).subarray(0, 29))).toThrow(/end inside a file/);
  });

  it('canonical bytes decode back to the same files, and arbitrary changes to them fail only with InvalidSourceError', () => {
    const files = new Map(Object.entries(FILES).map(([p, c]) => [p, new TextEncoder().encode(c as string)]));
    const bytes = encodeCanonical(files);
    expect(decodeCanonical(bytes)).toEqual(files);
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: bytes.length }), (at, value, cut) => {
        const changed = bytes.slice(0, Math.max(cut, at + 1));
        changed[at] = value;
        try {
          decodeCanonical(changed);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidSourceError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('bad bundles', () => {
  it('refuses corrupt archives and bytes that are no source', async () => {
    const zip = await zipBytes(FILES);
    await invalid(zip.subarray(0, zip.length - 40), /corrupt zip/);
    const tgz = tarBytes(FILES);
    const broken = Buffer.from(tgz);
    broken.fill(0x55, 20, 60);
    await invalid(broken, /corrupt (gzip|tar)/);
    const tar = tarBytes(FILES, false);
    tar[148] = 0x39; // the first header's checksum
    await invalid(tar, /corrupt tar/);
    await invalid(new TextEncoder().encode('hello, I am not an archive'), /not a source/);
    await invalid(join(tempDir(), 'missing.zip'), /no such file/);
  });

  it("refuses entries that climb out with '..', absolute paths and Windows paths, in zips and tarballs", async () => {
    await invalid(renamed(await zipBytes({ 'ok.js': '', 'xx/evil.js': 'x' }), 'xx/evil.js', '../evil.js'), /"\.\.\/evil\.js" climbs out/);
    await invalid(renamed(await zipBytes({ 'Xetc/passwd': 'x' }), 'Xetc/passwd', '/etc/passwd'), /absolute path/);
    await invalid(renamed(await zipBytes({ 'aXb.js': 'x' }), 'aXb.js', 'a\\b.js'), /Windows path/);
    await invalid(tarBytes([{ path: 'lib/../../evil.js', content: 'x' }]), /climbs out/);
    await invalid(tarBytes([{ path: '/etc/cron.d/evil', content: 'x' }]), /absolute path/);
    await invalid(tarBytes([{ path: '../', type: 'Directory' }]), /climbs out/);
  });

  it('refuses links: symlinks and hard links in archives, symlinks in a directory', async () => {
    await invalid(await zipBytes([{ path: 'link.js', content: '/etc/passwd', mode: 0o120777 }]), /"link\.js" is a link/);
    await invalid(tarBytes([{ path: 'link.js', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), /"link\.js" is a link/);
    await invalid(tarBytes([{ path: 'a.js', content: 'x' }, { path: 'b.js', type: 'Link', linkpath: 'a.js' }]), /"b\.js" is a link/);
    const dir = sourceDir({ 'a.js': 'x' });
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    await invalid(dir, /"passwd" is a link/);
  });

  it('refuses zip bombs by expansion ratio, before inflating them', async () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const bomb = await zipBytes({ 'zeros.bin': zeros });
    expect(bomb.length).toBeLessThan(zeros.length / SOURCE_LIMITS.maxRatio);
    await invalid(bomb, /more than 100 times its packed size/);
    await invalid(tarBytes({ 'zeros.bin': zeros }), /unpacks to more than/);
    // A small file of repeated text may pack very well: below the floor, the ratio does not count.
    expect((await readSource(await zipBytes({ 'table.js': 'export const t = "' + 'ab'.repeat(100_000) + '";' }))).files.size).toBe(1);
  });

  it('refuses an entry that inflates to more than it declares (a lying header)', async () => {
    const content = Buffer.from('x'.repeat(4000));
    const zip = await zipBytes([{ path: 'a.js', content, compress: true }]);
    // Declare 40 bytes in the central directory instead of 4000.
    const central = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    expect(zip.readUInt32LE(central + 24)).toBe(4000);
    zip.writeUInt32LE(40, central + 24);
    await invalid(zip, /corrupt zip/);
    expect(deflateRawSync(content).length).toBeLessThan(4000);
  });

  it('refuses more files, or more bytes, than a source may hold (limits given smaller, so this runs fast)', async () => {
    const limits = { ...SOURCE_LIMITS, maxFiles: 50, maxBytes: 256 * 1024 };
    const many: Files = {};
    for (let i = 0; i <= 50; i++) many[`f${i}.js`] = '';
    const invalidWith = async (input: Uint8Array | string, pattern: RegExp): Promise<void> => {
      await expect(readSource(input, limits)).rejects.toThrow(pattern);
      await expect(readSource(input, limits)).rejects.toBeInstanceOf(InvalidSourceError);
    };
    await invalidWith(await zipBytes(many), /more than 50 files/);
    await invalidWith(tarBytes(many), /more than 50 files/);
    await invalidWith(sourceDir(many), /more than 50 files/);
    delete many['f50.js'];
    expect((await readSource(await zipBytes(many), limits)).files.size).toBe(50);
    // Stored (not deflated), so no ratio applies: the total is what stops it, from the headers.
    const big = new Uint8Array(150 * 1024).fill(7);
    await invalidWith(await zipBytes([{ path: 'a.bin', content: big, compress: false }, { path: 'b.bin', content: big, compress: false }]), /unpacks to more than 262144 bytes/);
    await invalidWith(tarBytes({ 'a.bin': big, 'b.bin': big }, false), /unpacks to more than 262144 bytes/);
    await invalidWith(sourceDir({ 'a.bin': big, 'b.bin': big }), /unpacks to more than 262144 bytes/);
    // The default limits: an archive larger than 48 MiB is not even unpacked.
    await invalid(new Uint8Array(SOURCE_LIMITS.maxArchiveBytes + 1), /more than 50331648 bytes/);
  });
});
