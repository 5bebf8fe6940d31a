// putFile / getFile between the system and remote hosts (local method; the
// ssh path is in remote-methods.test.ts): content, mode, temporary files,
// errors, and a file larger than any one message may be.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, RemoteHostGoneError, type RemoteHost } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'thespis-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function host(via = false): Promise<RemoteHost> {
  system = await ActorSystem.start({ base: 'inline', logLevel: 'error' });
  const first = await system.connectHost({ method: 'local', serve: [] });
  return via ? system.connectHost({ method: 'local', via: first, serve: [] }) : first;
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

describe.each([false, true])('files (through another host: %s)', (via) => {
  it('putFile then getFile: same bytes, the mode asked for, no temporary file left', async () => {
    const h = await host(via);
    const source = join(dir, `source-${via}`);
    const bytes = randomBytes(3 * 1024 * 1024 + 12345);
    writeFileSync(source, bytes, { mode: 0o600 });
    const remote = join(dir, `remote-${via}`);
    expect(await h.putFile(source, remote, { mode: 0o640 })).toBe(bytes.length);
    expect(readFileSync(remote).equals(bytes)).toBe(true);
    expect(statSync(remote).mode & 0o777).toBe(0o640);
    const back = join(dir, `back-${via}`);
    expect(await h.getFile(remote, back)).toBe(bytes.length);
    expect(readFileSync(back).equals(bytes)).toBe(true);
    expect(statSync(back).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((name) => name.includes('thespis-part'))).toEqual([]);
  });
});

describe('files', () => {
  it('keeps the source mode when none is given, and moves an empty file', async () => {
    const h = await host();
    const source = join(dir, 'exec');
    writeFileSync(source, '#!/bin/sh\n', { mode: 0o751 });
    await h.putFile(source, join(dir, 'exec-copy'));
    expect(statSync(join(dir, 'exec-copy')).mode & 0o777).toBe(0o751);
    writeFileSync(join(dir, 'empty'), '');
    expect(await h.putFile(join(dir, 'empty'), join(dir, 'empty-copy'))).toBe(0);
    expect(await h.getFile(join(dir, 'empty-copy'), join(dir, 'empty-back'))).toBe(0);
    expect(readFileSync(join(dir, 'empty-back')).length).toBe(0);
  });

  it('a file larger than one message may be (64 MiB) moves in chunks both ways', async () => {
    const h = await host();
    const big = join(dir, 'big');
    const block = randomBytes(1024 * 1024);
    writeFileSync(big, Buffer.concat(Array.from({ length: 80 }, () => block)));
    await h.putFile(big, join(dir, 'big-remote'));
    await h.getFile(join(dir, 'big-remote'), join(dir, 'big-back'));
    expect(await sha256(join(dir, 'big-back'))).toBe(await sha256(big));
    rmSync(big);
    rmSync(join(dir, 'big-remote'));
    rmSync(join(dir, 'big-back'));
  }, 60_000);

  it('errors: a missing remote directory, a missing remote file, a missing local file', async () => {
    const h = await host();
    writeFileSync(join(dir, 'small'), 'x');
    await expect(h.putFile(join(dir, 'small'), join(dir, 'no-such-dir', 'x'))).rejects.toThrow(/ENOENT/);
    await expect(h.getFile(join(dir, 'no-such-file'), join(dir, 'never'))).rejects.toThrow(/ENOENT/);
    await expect(h.putFile(join(dir, 'no-such-local'), join(dir, 'y'))).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir).filter((name) => name.includes('thespis-part') || name === 'never')).toEqual([]);
    expect(await h.call('node:os#hostname')).toBeTypeOf('string');
  });

  it('a host that dies during a transfer fails it with RemoteHostGoneError and leaves no temporary file', async () => {
    const h = await host();
    const big = join(dir, 'dying');
    writeFileSync(big, randomBytes(48 * 1024 * 1024));
    const transfer = h.getFile(big, join(dir, 'dying-back'));
    setTimeout(() => process.kill(h.status().pid!, 'SIGKILL'), 20);
    await expect(transfer).rejects.toBeInstanceOf(RemoteHostGoneError);
    expect(readdirSync(dir).filter((name) => name.includes('thespis-part') || name === 'dying-back')).toEqual([]);
    rmSync(big);
  });
});

describe('the receiving side (file-ops)', () => {
  it('refuses a file whose SHA-256 differs from the sender\'s, and removes its temporary file', async () => {
    const { FileSink } = await import('../dist/remote/files/file-ops.js');
    const target = join(dir, 'checked');
    const acks: number[] = [];
    const failures: Error[] = [];
    const sink = new FileSink(target, 0o644, (n) => acks.push(n), (e) => failures.push(e));
    sink.data(Buffer.from('hello '));
    sink.data(Buffer.from('world'));
    const wrong = createHash('sha256').update('hello there').digest('hex');
    await expect(sink.end(wrong)).rejects.toThrow(/SHA-256 mismatch/);
    expect(acks).toEqual([1, 2]);
    expect(readdirSync(dir).filter((name) => name.startsWith('.checked') || name === 'checked')).toEqual([]);
    const good = new FileSink(target, 0o600, () => undefined, (e) => failures.push(e));
    good.data(Buffer.from('hello world'));
    expect(await good.end(createHash('sha256').update('hello world').digest('hex'))).toBe(11);
    expect(readFileSync(target, 'utf8')).toBe('hello world');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(failures).toEqual([]);
  });
});
