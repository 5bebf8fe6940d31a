// The cross-thread byte ring (src/transport/ring.ts), tested across real
// worker threads. Workers run test/fixtures/ring/worker.mjs, which loads a
// plain-JS copy of src/transport/ring*.ts transpiled here in beforeAll (Node 20
// cannot load .ts in a Worker), so the tests never depend on a stale dist/.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RingReader, RingWriter, createRing } from '../src/transport/ring/ring.js';
import { READER_SLEEPING, READ_IDX, WRITE_IDX } from '../src/transport/ring/ring-layout.js';
import { fill, matches, seqOf, seqRecord, sizes } from './fixtures/ring/records.mjs';

let outDir = '';
let ringModule = '';

beforeAll(() => {
  const srcDir = fileURLToPath(new URL('../src/transport/ring/', import.meta.url));
  outDir = mkdtempSync(join(tmpdir(), 'thespis-ring-'));
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  for (const file of readdirSync(srcDir).filter((f) => /^ring(-[a-z]+)?\.ts$/.test(f))) {
    const { outputText } = ts.transpileModule(readFileSync(join(srcDir, file), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
  }
  ringModule = pathToFileURL(join(outDir, 'ring.js')).href;
});

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const workers = new Set<Worker>();
afterEach(async () => {
  await Promise.all([...workers].map((w) => w.terminate()));
  workers.clear();
});

const exits = new WeakMap<Worker, Promise<number>>();

function startWorker(mode: string, data: Record<string, unknown>): Worker {
  const worker = new Worker(new URL('./fixtures/ring/worker.mjs', import.meta.url), {
    workerData: { mode, ringModule, ...data },
  });
  workers.add(worker);
  // Listen at once: a worker may be gone before the test asks how it ended.
  exits.set(worker, new Promise((resolve, reject) => {
    worker.once('exit', (code) => {
      workers.delete(worker);
      resolve(code);
    });
    worker.once('error', reject);
  }));
  return worker;
}

function exited(worker: Worker): Promise<number> {
  return exits.get(worker)!;
}

function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** `promise`, or a rejection naming `what` after `ms`; the timer never outlives it. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `condition()` holds, checking every millisecond; rejects after `ms`. */
function until(ms: number, what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (performance.now() > deadline) reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      else setTimeout(check, 1);
    };
    check();
  });
}

/** Read a ring until its writer ends it; `check` sees each record with its index. */
function readAll(sab: SharedArrayBuffer, copy: boolean,
                 check: (record: Uint8Array, index: number) => boolean): Promise<{ count: number; firstBad: number }> {
  const reader = new RingReader(sab, { copy });
  let count = 0;
  let firstBad = -1;
  return new Promise((resolve) => {
    reader.start((records) => {
      for (const r of records) {
        if (firstBad < 0 && !check(r, count)) firstBad = count;
        count++;
      }
    }, () => resolve({ count, firstBad }));
  });
}

/** Write n sequence records with backpressure, as a producer would. */
async function produceSeq(writer: RingWriter, n: number): Promise<void> {
  const buf = new Uint8Array(8);
  for (let i = 0; i < n; i++) {
    if (!writer.write(seqRecord(buf, i))) {
      writer.writeOrQueue(buf.slice());
      await writer.drained();
    }
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('ring across worker threads', () => {
  it.each([true, false])('delivers 1,000,000 small records in order, exactly once (copy: %s)', async (copy) => {
    const sab = createRing(64 * 1024);
    const n = 1_000_000;
    const all = readAll(sab, copy, (r, i) => r.length === 8 && seqOf(r) === i);
    const worker = startWorker('produce-seq', { sab, n, size: 8 });
    const { count, firstBad } = await within(25_000, 'the end of the stream', all);
    expect(firstBad).toBe(-1);
    expect(count).toBe(n);
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });

  it.each([true, false])('delivers records of random sizes 0..64 KiB across many wrap-arounds (copy: %s)', async (copy) => {
    const capacity = 256 * 1024;
    const sab = createRing(capacity);
    const n = 3_000;
    const maxBytes = 64 * 1024;
    const expected = sizes(n, 42, maxBytes);
    const total = expected.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(50 * capacity); // many wraps, so many PAD records
    const all = readAll(sab, copy, (r, i) => matches(r, i, expected[i]!));
    const worker = startWorker('produce-random', { sab, n, seed: 42, maxBytes });
    const { count, firstBad } = await within(25_000, 'the end of the stream', all);
    expect(firstBad).toBe(-1);
    expect(count).toBe(n);
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });

  it.each([true, false])('rejects a record bigger than the ring in write(), chunks it in writeOrQueue() (copy: %s)', async (copy) => {
    const sab = createRing(64 * 1024);
    const bigBytes = 1024 * 1024 + 3;
    const lengths = [10, bigBytes, 10];
    const all = readAll(sab, copy, (r, i) => matches(r, i, lengths[i]!));
    const worker = startWorker('produce-big', { sab, bigBytes });
    const report = await within(5_000, 'the report', nextMessage<{
      rejected: { name: string; message: string } | null; maxRecordBytes: number;
    }>(worker));
    expect(report.maxRecordBytes).toBe(64 * 1024 - 4);
    expect(report.rejected?.name).toBe('RangeError');
    expect(report.rejected?.message).toMatch(/exceeds maxRecordBytes/);
    const { count, firstBad } = await within(10_000, 'the end of the stream', all);
    expect(firstBad).toBe(-1);
    expect(count).toBe(3);
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });

  it('queues on the writer when the reader is slow, and loses nothing', async () => {
    const sab = createRing(64 * 1024);
    const n = 5_000;
    const size = 1024;
    const worker = startWorker('produce-flood', { sab, n, size });
    // The reader starts only after the writer has filled the ring and queued the rest.
    const { queued, queuedBytes } = await within(10_000, 'the flood', nextMessage<{ queued: number; queuedBytes: number }>(worker));
    expect(queued).toBeGreaterThan(n - (64 * 1024) / size);
    expect(queuedBytes).toBe(queued * size);
    let batches = 0;
    const reader = new RingReader(sab);
    let count = 0;
    let firstBad = -1;
    const ended = new Promise<void>((resolve) => {
      reader.start((records) => {
        batches++;
        for (const r of records) {
          if (firstBad < 0 && !matches(r, count, size)) firstBad = count;
          count++;
        }
        // A slow consumer: make the writer wait for space again and again.
        const until = performance.now() + 0.2;
        while (performance.now() < until);
      }, resolve);
    });
    await within(25_000, 'the end of the stream', ended);
    expect(firstBad).toBe(-1);
    expect(count).toBe(n);
    expect(batches).toBeGreaterThan(10);
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });

  it('ping-pongs between two threads over two rings', async () => {
    const ping = createRing(4096);
    const pong = createRing(4096);
    const worker = startWorker('echo', { inSab: ping, outSab: pong });
    const writer = new RingWriter(ping);
    const reader = new RingReader(pong);
    const rounds = 20_000;
    const buf = new Uint8Array(32);
    let i = 0;
    let problem = '';
    const ended = new Promise<void>((resolve) => {
      reader.start((records) => {
        if (records.length !== 1 || seqOf(records[0]!) !== i || records[0]!.length !== 32) {
          problem ||= `round ${i}: got ${records.length} records, first ${seqOf(records[0]!)}`;
        }
        if (++i === rounds) writer.end();
        else writer.write(seqRecord(buf, i));
      }, resolve);
    });
    expect(writer.write(seqRecord(buf, 0))).toBe(true);
    await within(25_000, `${rounds} round trips`, ended);
    expect(problem).toBe('');
    expect(i).toBe(rounds);
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });

  it('stop() from inside onRecords lets the worker exit', async () => {
    const sab = createRing(4096);
    const worker = startWorker('consume-stop', { sab });
    const writer = new RingWriter(sab);
    const ctl = new Int32Array(sab);
    writer.write(text('hello'));
    expect(await within(5_000, 'the first record', nextMessage(worker))).toEqual({ got: 'hello' });
    // Asleep in Atomics.waitAsync, the worker stays alive only through the reader.
    await until(5_000, 'the reader to sleep', () => Atomics.load(ctl, READER_SLEEPING) === 1);
    const exit = exited(worker);
    writer.write(text('stop'));
    expect(await within(5_000, 'the stop record', nextMessage(worker))).toEqual({ got: 'stop' });
    expect(await within(5_000, 'the worker to exit', exit)).toBe(0);
  });

  it('stop() of a sleeping reader releases it and lets the worker exit', async () => {
    const sab = createRing(4096);
    const worker = startWorker('consume-until-told', { sab });
    expect(await within(5_000, 'the start', nextMessage(worker))).toBe('started');
    await until(5_000, 'the reader to sleep', () => Atomics.load(new Int32Array(sab), READER_SLEEPING) === 1);
    const exit = exited(worker);
    worker.postMessage('stop');
    expect(await within(5_000, 'the stop', nextMessage(worker))).toBe('stopped');
    expect(await within(5_000, 'the worker to exit', exit)).toBe(0);
    expect(Atomics.load(new Int32Array(sab), READER_SLEEPING)).toBe(0);
  });

  it('an idle reader thread uses almost no CPU once traffic stops', async () => {
    const sab = createRing(64 * 1024);
    const n = 100_000;
    const worker = startWorker('consume-idle', { sab, n, windowMs: 300 });
    const writer = new RingWriter(sab);
    const report = nextMessage<{ count: number; cpuUs: number; elu: number }>(worker);
    await produceSeq(writer, n);
    await writer.drained();
    // cpuUsage is process-wide; this thread only awaits the report meanwhile.
    const { count, cpuUs, elu } = await within(10_000, 'the idle report', report);
    expect(count).toBe(n);
    // Process-wide, so vitest's own work and GC in the window count too: the
    // bound separates a spinning reader (~300 ms of CPU in the 300 ms window)
    // from that background. The per-thread check is the ELU below.
    expect(cpuUs).toBeLessThan(60_000);
    expect(elu).toBeLessThan(0.05);
    writer.end();
    expect(await within(5_000, 'the worker to exit', exited(worker))).toBe(0);
  });
});

describe('ring in one thread', () => {
  it('validates the capacity and the buffer', () => {
    expect(() => createRing(1000)).toThrow(RangeError);
    expect(() => createRing(32)).toThrow(RangeError);
    expect(() => createRing(2 ** 31)).toThrow(RangeError);
    expect(() => new RingWriter(new SharedArrayBuffer(4096))).toThrow(TypeError);
    expect(() => new RingReader(new ArrayBuffer(4096) as unknown as SharedArrayBuffer)).toThrow(TypeError);
  });

  it('write() is all or nothing and returns false when full', async () => {
    const sab = createRing(64);
    const writer = new RingWriter(sab);
    const buf = new Uint8Array(8);
    let written = 0;
    while (writer.write(seqRecord(buf, written))) written++;
    expect(written).toBe(5); // 5 x (4 + 8) = 60 of 64 bytes
    expect(() => writer.write(new Uint8Array(61))).toThrow(RangeError);
    const got: number[] = [];
    const reader = new RingReader(sab);
    await new Promise<void>((resolve) => reader.start((records) => {
      for (const r of records) got.push(seqOf(r));
      if (got.length === 5) resolve();
    }));
    reader.stop();
    expect(got).toEqual([0, 1, 2, 3, 4]);
    // The failed sixth write already placed a PAD at offset 60, so now that the
    // reader has passed it a record of maxRecordBytes has the whole ring.
    const receive = (): Promise<Uint8Array[]> => within(5_000, 'records', new Promise((resolve) => {
      reader.start((records) => {
        reader.stop();
        resolve(records);
      });
    }));
    expect(writer.write(fill(new Uint8Array(60), 7))).toBe(true);
    const [whole] = await receive();
    expect(matches(whole!, 7, 60)).toBe(true);
    // At offset 12, write() can place only the PAD for such a record;
    // writeOrQueue() then waits for the reader to pass the PAD.
    expect(writer.write(seqRecord(buf, 8))).toBe(true);
    expect((await receive()).map(seqOf)).toEqual([8]);
    const record = fill(new Uint8Array(60), 9);
    expect(writer.write(record)).toBe(false);
    writer.writeOrQueue(record);
    expect(writer.queued).toBe(1);
    const [big] = await receive();
    expect(matches(big!, 9, 60)).toBe(true);
    expect(writer.queued).toBe(0);
  });

  it('close() drops the overflow queue and later writes throw', () => {
    const sab = createRing(64);
    const writer = new RingWriter(sab);
    const buf = new Uint8Array(8);
    for (let i = 0; i < 10; i++) writer.writeOrQueue(seqRecord(buf, i).slice());
    expect(writer.queued).toBe(5);
    expect(writer.queuedBytes).toBe(40);
    expect(writer.write(buf)).toBe(false); // a direct write must not overtake the queue
    expect(writer.close()).toBe(5);
    expect(writer.queued).toBe(0);
    expect(() => writer.write(buf)).toThrow(/closed/);
    expect(() => writer.writeOrQueue(buf)).toThrow(/closed/);
  });

  it.each([
    ['2^32', -64],
    ['2^31', 0x7fffffc0],
  ])('keeps working when the indices wrap at %s', async (_name, startIndex) => {
    const sab = createRing(64);
    const ctl = new Int32Array(sab);
    Atomics.store(ctl, WRITE_IDX, startIndex);
    Atomics.store(ctl, READ_IDX, startIndex);
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab);
    const got: number[] = [];
    const done = new Promise<void>((resolve) => reader.start((records) => {
      for (const r of records) got.push(seqOf(r));
    }, resolve));
    await produceSeq(writer, 40);
    writer.end();
    await within(5_000, 'the end of the stream', done);
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect((Atomics.load(ctl, READ_IDX) - startIndex) | 0).toBeGreaterThan(256);
  });
});

describe('ring and process exit', () => {
  it('a main thread whose reader was stopped and writer closed exits by itself', async () => {
    // A fresh process: vitest's own handles would hide a leak in this one.
    // One ring with a reader that gets stopped while asleep; another whose
    // writer waits for space that never comes until it is closed.
    const script = `
      const { createRing, RingReader, RingWriter } = await import(${JSON.stringify(ringModule)});
      const sab = createRing(1024);
      const reader = new RingReader(sab);
      const writer = new RingWriter(sab);
      const stuck = new RingWriter(createRing(64));
      for (let i = 0; i < 10; i++) stuck.writeOrQueue(new Uint8Array(8));
      reader.start(() => setTimeout(() => {
        reader.stop();
        if (stuck.close() !== 5) process.exitCode = 3;
      }, 20));
      writer.write(new Uint8Array(3));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await within(10_000, 'the child to exit', new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
    })).finally(() => child.kill());
    expect(code).toBe(0);
  });
});
