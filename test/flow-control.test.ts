// Flow control: a fast sender is paused between messages while its
// destination is congested, so neither links nor a slow actor's mailbox absorb
// a whole stream; one slow actor does not stall the others; status() counts
// what waits in links.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, type ActorAddress } from '../dist/index.js';
import { Flooder, SlowSink, Staller } from './fixtures/flow-actors.js';
import { eventually, startSystem } from './conformance/bases.js';

let system: ActorSystem | undefined;
afterEach(() => system?.shutdown());

const N = 200_000;
/** 100 bytes a message: a link's worth of them is a few thousand, not the ~200,000 of bare numbers. */
const PAD = 'x'.repeat(100);

/**
 * Floods a slow sink with N messages and samples status() until it has them
 * all; returns the most messages seen waiting at once.
 */
async function floodAndWatch(sys: ActorSystem, sink: ActorAddress, flooder: ActorAddress): Promise<number> {
  let sent = false;
  const flood = sys.ask(flooder, { flood: { to: sink, n: N, batch: 1000, pad: PAD } }, 120_000).then(() => (sent = true));
  let most = 0;
  for (;;) {
    const status = await sys.status();
    most = Math.max(most, status.pendingMessages);
    if (sent && ((await sys.ask(sink, 'count', 30_000)) as { count: number }).count === N) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await flood;
  return most;
}

describe.each(['inline', 'workers', 'processes:forkserver'])('flow control on %s', (entry) => {
  it(`keeps at most a bounded number of ${N} messages waiting for a slow actor, in order`, async () => {
    ({ system } = await startSystem(entry));
    const sys = system;
    const sink = await sys.createActor(SlowSink);
    await sys.ask(sink, { cost: 5 }, 5000);
    const flooder = await sys.createActor(Flooder);
    if (entry !== 'inline') expect(flooder.kernel).not.toBe(sink.kernel);
    const most = await floodAndWatch(sys, sink, flooder);
    // Without flow control nearly all of them wait at once (the sender is
    // ~100× faster than the sink); with it, a mailbox high-water mark and
    // what the links between them hold.
    expect(most).toBeLessThan(N / 4);
    expect(await sys.ask(sink, 'count', 5000)).toEqual({ count: N, outOfOrder: 0 });
  }, 120_000);
});

// Across kernels: on one thread (inline) every actor shares the slow actor's turns anyway.
describe.each(['workers', 'processes:forkserver'])('flow control across kernels on %s', (entry) => {
  it('pauses only the senders to a slow actor: others on the same kernels and links go on', async () => {
    ({ system } = await startSystem(entry));
    const sys = system;
    const sink = await sys.createActor(SlowSink);
    await sys.ask(sink, { cost: 50, forMs: 4000 }, 5000);
    const flooder = await sys.createActor(Flooder);
    // A pinger beside the flooder and a mirror beside the sink (on the
    // workers base children stay on their parent's thread; on the processes
    // base each is a process of its own, talking over the same hub).
    const pinger = (await sys.ask(flooder, { spawn: 'Pinger' }, 5000)) as ActorAddress;
    const mirror = (await sys.ask(sink, { spawn: 'Mirror' }, 5000)) as ActorAddress;
    if (entry === 'workers') {
      expect(pinger.kernel).toBe(flooder.kernel);
      expect(mirror.kernel).toBe(sink.kernel);
    }
    let flooded = false;
    // More than the links between them hold: the flooder is paused long before it has sent them all.
    const flood = sys.ask(flooder, { flood: { to: sink, n: 300_000, batch: 1000 } }, 120_000).then(() => (flooded = true));
    await eventually(async () => (await sys.status()).kernels.some((k) => k.pausedActors > 0) || undefined, 10_000);
    expect(await sys.ask(pinger, { pings: 20, to: mirror }, 10_000)).toEqual({ done: 20 });
    expect(flooded).toBe(false);
    await flood;
    await eventually(async () => ((await sys.ask(sink, 'count', 30_000)) as { count: number }).count === 300_000 || undefined, 30_000);
  }, 120_000);
});

describe('flow control of large messages between threads', () => {
  it('pauses a sender once 32 MiB of large messages wait for a blocked thread', async () => {
    ({ system } = await startSystem('workers'));
    const sys = system;
    const dir = mkdtempSync(join(tmpdir(), 'thespis-flow-'));
    try {
      const staller = await sys.createActor(Staller);
      const flooder = await sys.createActor(Flooder);
      expect(flooder.kernel).not.toBe(staller.kernel);
      const marker = join(dir, 'blocked');
      const progress = join(dir, 'progress');
      writeFileSync(progress, '0');
      sys.tell(staller, { block: 2000, marker, progress });
      await eventually(() => existsSync(marker) || undefined);
      // 3,000 messages of 32 KiB (96 MiB): large records travel beside the
      // ring (transferred buffers), which the ring's backlog does not see.
      const n = 3000;
      const flood = sys.ask(flooder, { flood: { to: staller, n, batch: 16, pad: 'x'.repeat(32 * 1024), progress } }, 120_000);
      await eventually(async () => ((await sys.ask(staller, 'seen', 10_000)) as number) >= 0 || undefined, 10_000);
      // What the flooder had sent when the 2 s block ended: 32 MiB (1,024
      // messages) and what was on its way; without the bulk high-water mark, all of them.
      const seen = (await sys.ask(staller, 'seen', 5000)) as number;
      expect(seen).toBeGreaterThan(0);
      expect(seen).toBeLessThan(2000);
      await flood;
      await eventually(async () => ((await sys.ask(staller, 'count', 5000)) as number) === n || undefined, 30_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('status().pendingMessages', () => {
  it('counts messages waiting in a link to a thread that is busy', async () => {
    ({ system } = await startSystem('workers'));
    const sys = system;
    const dir = mkdtempSync(join(tmpdir(), 'thespis-flow-'));
    try {
      const staller = await sys.createActor(Staller);
      const marker = join(dir, 'blocked');
      sys.tell(staller, { block: 1500, marker });
      await eventually(() => existsSync(marker) || undefined);
      for (let i = 0; i < 50_000; i++) sys.tell(staller, i);
      // The main kernel's entry is taken at once; the blocked thread answers later.
      const status = await sys.status();
      const main = status.kernels.find((k) => k.kernel.endsWith(':main'))!;
      expect(main.pendingMessages).toBeGreaterThanOrEqual(50_000);
      await eventually(async () => ((await sys.ask(staller, 'count', 5000)) as number) === 50_000 || undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
