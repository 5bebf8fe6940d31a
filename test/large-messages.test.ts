// Large messages between actors on pool threads, on a dedicated thread and in
// processes (issue 16): a 16 MiB message and batches of large ones (more than
// a frame's limit in one turn) arrive whole and in order, with nothing logged;
// a message over the limit fails where it is sent, with MessageTooLargeError.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, MessageTooLargeError, PoisonError, nativeStatus, type ActorAddress, type CreateOptions } from '../dist/index.js';
import { BigEcho, BigPinger, BigSink, BigSource, digest, payload } from './fixtures/large-actors.js';
import { eventually } from './conformance/bases.js';

const MIB = 1024 * 1024;
const LIMIT = 64 * MIB;

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function start(): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base: 'workers', workers: 2, logger: (r) => logs.push(`${r.level} ${r.message} ${r.detail ?? ''}`) });
  return system;
}

type Item = [kind: 'ascii' | 'utf8' | 'bytes', size: number, seed: number] | { small: number } | 'recheck';

/** What the sink must report for `items`, in order ('recheck': the last bytes before it, as they were). */
function expected(items: Item[]): unknown[] {
  let lastBytes: Uint8Array | undefined;
  return items.map((item) => {
    if (item === 'recheck') return digest(lastBytes);
    const value = Array.isArray(item) ? payload(item[0], item[1], item[2]) : item;
    if (value instanceof Uint8Array) lastBytes = value;
    return digest(value);
  });
}

/** A source and a sink placed by `options`; the sink reports to a private endpoint. */
async function pair(sys: ActorSystem, source: CreateOptions, sink: CreateOptions) {
  const from = await sys.createActor(BigSource, source);
  const to = await sys.createActor(BigSink, sink);
  const reports = sys.private();
  expect(await reports.ask(to, { reportTo: reports.address }, 10_000)).toBe('ready');
  return { from, to, reports };
}

async function sendAndCheck(sys: ActorSystem, from: ActorAddress, to: ActorAddress, reports: ReturnType<ActorSystem['private']>, items: Item[]) {
  expect(await sys.ask(from, { to, items }, 60_000)).toBe('sent');
  const got: unknown[] = [];
  for (let i = 0; i < items.length; i++) got.push(await reports.listen(60_000));
  expect(got).toEqual(expected(items));
}

// A 16 MiB message, then one turn's batch of large ones: 5 x 16 MiB (80 MiB,
// over a frame's limit together), text and bytes, ASCII and not, with small
// messages between them.
const SIXTEEN: Item[] = [['ascii', 16 * MIB, 1]];
const BATCH: Item[] = [
  { small: 1 },
  ['bytes', 16 * MIB, 2],
  ['ascii', 16 * MIB, 3],
  { small: 2 },
  ['utf8', 3 * MIB, 4],
  ['ascii', 16 * MIB, 5],
  ['bytes', 300 * 1024, 6],
  ['ascii', 10 * 1024, 7],
  ['ascii', 16 * MIB, 8],
  ['bytes', 16 * MIB - 100, 9],
  ['ascii', 16 * MIB, 10],
  ['ascii', 5 * MIB, 11],
  { small: 3 },
  'recheck',
];

const placements: Array<[string, CreateOptions, CreateOptions]> = [
  ['between pool threads', {}, {}],
  ['to a dedicated thread (through the main thread)', {}, { dedicated: true }],
  ['between processes', { host: 'process' }, { host: 'process' }],
];

describe.each(placements)('large messages %s', (_name, sourceOptions, sinkOptions) => {
  it('delivers a 16 MiB message and a batch of large ones whole and in order, logging nothing', { timeout: 120_000 }, async () => {
    const sys = await start();
    const { from, to, reports } = await pair(sys, sourceOptions, sinkOptions);
    expect(from.kernel).not.toBe(to.kernel);
    await sendAndCheck(sys, from, to, reports, SIXTEEN);
    await sendAndCheck(sys, from, to, reports, BATCH);
    // And again: a link keeps its state (record definitions, pooled buffers) right across large records.
    await sendAndCheck(sys, from, to, reports, BATCH.slice(0, 5));
    expect(logs.filter((line) => /^(warn|error)/.test(line))).toEqual([]);
  });

  it('refuses a message that encodes over the limit where it is sent, and the link goes on', { timeout: 60_000 }, async () => {
    const sys = await start();
    const { from, to, reports } = await pair(sys, sourceOptions, sinkOptions);
    // Inside an actor: a string over the limit throws at send.
    const thrown = (await sys.ask(from, { to, huge: LIMIT + 1 }, 30_000)) as { error: string; limit: number; text: string };
    expect(thrown.error).toBe('MessageTooLargeError');
    expect(thrown.limit).toBe(LIMIT);
    expect(thrown.text).toMatch(/67108865 bytes, over the limit of 67108864 bytes \(maxFrameBytes, 64 MiB\)/);
    // Inside an actor, a value over the limit inside the message: refused by its link, logged with the
    // limit (not sent, not a "could not be encoded" drop), and what follows is delivered.
    expect(await sys.ask(from, { to, nested: LIMIT + 10 }, 30_000)).toBe('sent');
    expect(await reports.listen(30_000)).toEqual(digest('after nested'));
    const refusal = await eventually(() => logs.find((line) => line.includes('over the limit')), 10_000);
    expect(refusal).toMatch(/^error the message to .* encodes to at least \d+ bytes, over the limit of 67108864 bytes \(maxFrameBytes, 64 MiB\); it was not sent/);
    expect(logs.filter((line) => /could not be encoded/.test(line))).toEqual([]);
  });
});

describe.runIf(nativeStatus().available)('large messages between processes, direct links', () => {
  it('two process actors exchanging megabytes get a direct link after a few of them', { timeout: 60_000 }, async () => {
    const sys = await start();
    const pinger = await sys.createActor(BigPinger, { host: 'process' });
    const echo = await sys.createActor(BigEcho, { host: 'process' });
    // Four round trips of 1 MiB through the hub: a few envelopes, but megabytes of forwarding.
    expect(await sys.ask(pinger, { target: echo, rounds: 4, size: MIB }, 20_000)).toEqual({ rounds: 4 });
    // The introduction went out during those (after 64 KiB × 64 forwarded), ahead
    // of anything this process sends later: by the end of four more round trips
    // both have switched, and their "from now on, direct" markers have passed
    // through here (on a loaded machine the first four can end before that).
    expect(await sys.ask(pinger, { target: echo, rounds: 4, size: MIB }, 20_000)).toEqual({ rounds: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'thespis-large-'));
    try {
      const doneFile = join(dir, 'done');
      sys.tell(pinger, { target: echo, rounds: 20, size: MIB, doneFile });
      await new Promise((resolve) => setImmediate(resolve)); // the tell leaves in this turn's flush
      // No event loop here from now on: only a direct link lets the round trips happen.
      const deadline = Date.now() + 15_000;
      while (!existsSync(doneFile) && Date.now() < deadline);
      expect(existsSync(doneFile)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a message over the limit from outside the actors', () => {
  it('throws MessageTooLargeError from tell and rejects ask with it, for a string or bytes over the limit', async () => {
    const sys = await start();
    const sink = await sys.createActor(BigSink);
    const huge = 'h'.repeat(LIMIT + 1);
    expect(() => sys.tell(sink, huge)).toThrow(MessageTooLargeError);
    expect(() => sys.tell(sink, new Uint8Array(LIMIT + 1))).toThrow(/over the limit of 67108864 bytes \(maxFrameBytes, 64 MiB\)/);
    const rejected = await sys.ask(sink, huge, 5_000).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(MessageTooLargeError);
    expect((rejected as MessageTooLargeError).limit).toBe(LIMIT);
    // Text of up to three bytes a character is measured: 22 Mi snowmen take 66 MiB.
    expect(() => sys.tell(sink, '☃'.repeat(22 * MIB))).toThrow(MessageTooLargeError);
    // Within the limit, it goes.
    const { from, to, reports } = await pair(sys, {}, {});
    await sendAndCheck(sys, from, to, reports, [['ascii', LIMIT - 1000, 11]]);
  });

  it('rejects an ask at once when its message holds a value over the limit (refused by the link), and the link goes on', async () => {
    const sys = await start();
    const { to, reports } = await pair(sys, {}, {});
    reports.tell(to, 'before');
    const started = Date.now();
    const rejected = await sys.ask(to, { data: 'h'.repeat(LIMIT + 1) }, 20_000).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(MessageTooLargeError);
    expect(Date.now() - started).toBeLessThan(10_000); // not the ask's timeout
    expect((rejected as Error).message).toMatch(/^the message to .* encodes to at least \d+ bytes, over the limit of 67108864 bytes/);
    expect(await reports.listen(10_000)).toEqual(digest('before'));
    expect(logs.some((line) => /^error the message to .* over the limit/.test(line))).toBe(true);
    reports.tell(to, 'after');
    expect(await reports.listen(10_000)).toEqual(digest('after'));
  });

  it('an actor that does not catch the MessageTooLargeError of its send fails that message as any throw does', async () => {
    const sys = await start();
    const sink = await sys.createActor(BigSink);
    const source = await sys.createActor(BigSource);
    // `items` sends without catching: the handler throws, is retried once, and the asker gets a PoisonError naming the cause.
    const result = await sys.ask(source, { to: sink, items: [['ascii', LIMIT + 1, 1]] }, 30_000).catch((error: unknown) => error);
    expect(result).toBeInstanceOf(PoisonError);
    expect((result as PoisonError).message).toMatch(/over the limit of 67108864 bytes \(maxFrameBytes, 64 MiB\)/);
  });
});

describe('large messages between processes without the native addon', () => {
  it('delivers them whole and in order over the fallback link, and refuses one over the limit', { timeout: 120_000 }, async () => {
    const script = fileURLToPath(new URL('./fixtures/large-no-native.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], {
      env: { ...process.env, THESPIS_NO_NATIVE: '1' },
      maxBuffer: 1 << 20,
      timeout: 110_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result).toEqual({ native: false, inOrder: true, whole: true, refused: 'MessageTooLargeError', logged: [] });
  });
});
