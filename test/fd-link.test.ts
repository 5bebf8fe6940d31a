// FdLink: framed records with file descriptors beside them, over a socket pair.
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeStatus, requireNative } from '../src/native.js';
import { FdLink, type RecordLinkHandlers } from '../src/transport/fd-link.js';
import { encodeFramesTs } from '../src/transport/framing.js';

const DEADLINE_MS = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'thespis-fdlink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records here are `[u8 fd count][text]`. */
const countFds = (record: Uint8Array): number => (record.length === 0 ? -1 : record[0]!);
const record = (fdCount: number, text: string): Uint8Array => Buffer.concat([Buffer.from([fdCount]), Buffer.from(text)]);

interface Received {
  records: Array<{ text: string; fds: number[] }>;
  closed: Promise<Error | undefined>;
  handlers: RecordLinkHandlers;
}

function receiver(): Received {
  const records: Received['records'] = [];
  let done!: (error: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((resolve) => (done = resolve));
  return {
    records,
    closed,
    handlers: {
      onRecord: (r, fds) => records.push({ text: Buffer.from(r.subarray(1)).toString(), fds: [...fds] }),
      onClosed: (error) => done(error),
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.runIf(nativeStatus().available)('fd links', () => {
  const addon = requireNative('fdpass');

  it('delivers each record with its own descriptors, in order, across many sendmsg calls', async () => {
    const [a, b] = addon.socketPair();
    const got = receiver();
    const sender = new FdLink(a, 1 << 20, countFds, { onRecord: () => undefined, onClosed: () => undefined });
    const reader = new FdLink(b, 1 << 20, countFds, got.handlers);
    // 300 files, one per record, plus records without any: more than one
    // sendmsg can carry (253), so the batch must be cut between records.
    const files: string[] = [];
    for (let i = 0; i < 300; i++) {
      const path = join(dir, `f${i}`);
      files.push(path);
      writeFileSync(path, `file ${i}`);
      sender.write(record(0, `plain ${i}`));
      sender.write(record(1, `with ${i}`), [openSync(path, 'r')]);
    }
    await until(() => got.records.length === 600);
    got.records.forEach((r, i) => {
      const n = i >> 1;
      if (i % 2 === 0) return expect(r).toEqual({ text: `plain ${n}`, fds: [] });
      expect(r.text).toBe(`with ${n}`);
      expect(r.fds).toHaveLength(1);
      // The descriptor is the file the sender opened for this record.
      expect(fstatSync(r.fds[0]!).ino).toBe(statSync(files[n]!).ino);
      expect(readFileSync(r.fds[0]!, 'utf8')).toBe(`file ${n}`);
      closeSync(r.fds[0]!);
    });
    await sender.end();
    expect(await got.closed).toBeUndefined();
  });

  it('closes the link of a peer whose record claims descriptors that never came, and says why', async () => {
    const [a, b] = addon.socketPair();
    const got = receiver();
    new FdLink(b, 1 << 20, countFds, got.handlers);
    // A raw peer: one honest record, then one that declares two descriptors.
    const bytes = encodeFramesTs([record(0, 'fine'), record(2, 'lying')]);
    expect(addon.sendFds(a, bytes, [])).toBe(bytes.length);
    const error = await got.closed;
    expect(error?.name).toBe('CodecError');
    expect(error?.message).toMatch(/declares 2 descriptors that did not come with it/);
    expect(got.records.map((r) => r.text)).toEqual(['fine']);
    closeSync(a);
  });

  it('closes the link of a peer that sends descriptors no record claims', async () => {
    const [a, b] = addon.socketPair();
    const got = receiver();
    new FdLink(b, 1 << 20, countFds, got.handlers);
    const file = join(dir, 'unclaimed');
    writeFileSync(file, 'x');
    const fds = Array.from({ length: 200 }, () => openSync(file, 'r'));
    let error: Error | undefined;
    for (let i = 0; i < 8 && error === undefined; i++) {
      // Each carries 200 descriptors on records that claim none.
      const bytes = encodeFramesTs([record(0, `r${i}`)]);
      if (addon.sendFds(a, bytes, fds) < 0) break;
      error = await Promise.race([got.closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20))]);
    }
    fds.forEach((fd) => closeSync(fd));
    error ??= await got.closed;
    expect(error?.message).toMatch(/descriptors that no record claims/);
    closeSync(a);
  });
});
