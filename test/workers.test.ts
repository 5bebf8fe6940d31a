// The workers base beyond the conformance suite: placement, dedicated threads,
// and threads that die.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, DeadActorError, InvalidActorSpecError, Actor, type ActorSystemOptions } from '../dist/index.js';
import { Blocker, CrashSupervisor, Crasher, ThreadProbe } from './fixtures/worker-actors.js';
import { DeadLetterCollector } from './fixtures/lifecycle-actors.js';
import { Echo } from './fixtures/basic-actors.js';
import { eventually } from './conformance/bases.js';

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(() => system?.shutdown());

async function start(workers = 2, options: ActorSystemOptions = {}): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base: 'workers', workers, logger: (r) => logs.push(`${r.level} ${r.message}`), ...options });
  return system;
}

describe('workers base', () => {
  it('runs actors off the main thread and spreads the system’s actors over the pool', async () => {
    const sys = await start(2);
    const probes = await Promise.all(Array.from({ length: 20 }, () => sys.createActor(ThreadProbe)));
    const threads = new Set(await Promise.all(probes.map((p) => sys.ask(p, 'thread', 2000))));
    expect(threads.has(threadId)).toBe(false);
    expect(threads.size).toBe(2);
    const status = await sys.status();
    expect(status.threads).toBe(3);
    const perKernel = status.kernels.filter((k) => k.actors > 0).map((k) => k.actors);
    expect(perKernel).toHaveLength(2);
    expect(Math.abs(perKernel[0]! - perKernel[1]!)).toBeLessThanOrEqual(2);
  });

  it('keeps an actor’s children on its own thread while that thread is not busier', async () => {
    const sys = await start(2);
    const parent = await sys.createActor(ThreadProbe);
    const home = await sys.ask(parent, 'thread', 2000);
    const children = (await sys.ask(parent, { children: 5 }, 2000)) as ActorAddress[];
    const where = await Promise.all(children.map((c) => sys.ask(c, 'thread', 2000)));
    expect(where).toEqual(Array(5).fill(home));
  });

  it('keeps children on their parent’s thread when the parent creates and messages many in one handler', async () => {
    // Each child is runnable (it has mail) as soon as it exists: those are the
    // parent's own burst, not a backlog that should push children elsewhere.
    const sys = await start(2);
    const parent = await sys.createActor(ThreadProbe);
    const home = await sys.ask(parent, 'thread', 2000);
    const children = (await sys.ask(parent, { children: 500, greet: true }, 5000)) as ActorAddress[];
    const where = new Set(await Promise.all(children.map((c) => sys.ask(c, 'thread', 5000))));
    expect([...where]).toEqual([home]);
  });

  it('gives a dedicated actor a thread of its own', async () => {
    const sys = await start(2);
    const pooled = await Promise.all([1, 2, 3, 4].map(() => sys.createActor(ThreadProbe)));
    const poolThreads = new Set(await Promise.all(pooled.map((p) => sys.ask(p, 'thread', 2000))));
    const dedicated = await sys.createActor(ThreadProbe, { dedicated: true });
    const own = await sys.ask(dedicated, 'thread', 2000);
    expect(poolThreads.has(own)).toBe(false);
    expect(own).not.toBe(threadId);
    expect((await sys.status()).threads).toBe(4);
  });

  it('reports actors of a thread that called process.exit to their parents, and the rest keeps running', async () => {
    const sys = await start(2);
    const bystander = await sys.createActor(ThreadProbe);
    const supervisor = await sys.createActor(CrashSupervisor);
    const crasher = (await sys.ask(supervisor, 'spawn', 2000)) as ActorAddress;
    expect(await sys.ask(crasher, 'thread', 5000)).not.toBe(await sys.ask(supervisor, 'thread', 2000));
    const pendingAsk = sys.ask(crasher, 'exit', 10_000);
    await expect(pendingAsk).rejects.toBeInstanceOf(DeadActorError);
    const report = (await sys.listen(5000)) as { exited: ActorAddress };
    expect(report.exited.equals(crasher)).toBe(true);
    await expect(sys.ask(crasher, 'thread', 5000)).rejects.toBeInstanceOf(DeadActorError);
    expect(typeof (await sys.ask(bystander, 'thread', 2000))).toBe('number');
    expect(logs.some((line) => line.includes('exited (code 3)'))).toBe(true);
  });

  it('replaces a pool thread killed by an uncaught error; new actors go to the replacement', async () => {
    const sys = await start(2);
    const crasher = await sys.createActor(Crasher);
    const deadThread = await sys.ask(crasher, 'thread', 2000);
    await expect(sys.ask(crasher, 'throw', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    await eventually(async () => ((await sys.status()).threads === 3 ? true : undefined), 10_000);
    const fresh = await Promise.all([1, 2, 3, 4].map(() => sys.createActor(ThreadProbe)));
    const threads = new Set(await Promise.all(fresh.map((p) => sys.ask(p, 'thread', 2000))));
    expect(threads.has(deadThread)).toBe(false);
    expect(threads.size).toBe(2);
    expect(logs.some((line) => line.includes('uncaught, outside any handler'))).toBe(true);
  });

  it('turns messages still on their way to a thread that died into dead letters, in order', async () => {
    const sys = await start(2);
    const collector = await sys.createActor(DeadLetterCollector);
    expect(await sys.ask(collector, 'start', 2000)).toBe('started');
    const blocker = await sys.createActor(Blocker, { dedicated: true });
    const dir = mkdtempSync(join(tmpdir(), 'thespis-'));
    const marker = join(dir, 'blocked');
    sys.tell(blocker, { blockThenExit: marker });
    await eventually(() => (existsSync(marker) ? true : undefined), 10_000);
    for (let i = 0; i < 50; i++) sys.tell(blocker, { lost: i });
    const lost = await eventually(async () => {
      const seen = (await sys.ask(collector, 'get', 2000)) as Array<{ to: string; msg: { lost?: number } }>;
      const mine = seen.filter((e) => e.to === blocker.id && typeof e.msg?.lost === 'number');
      return mine.length >= 50 ? mine : undefined;
    }, 15_000);
    expect(lost.map((e) => e.msg.lost)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(logs.some((line) => line.includes('exited (code 4)'))).toBe(true);
    rmSync(dir, { recursive: true });
  });

  it('reports the actors of a thread that hit its resourceLimits, and replaces the thread', async () => {
    const sys = await start(1, { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
    const bystander = await sys.createActor(ThreadProbe);
    const supervisor = await sys.createActor(CrashSupervisor);
    const hog = (await sys.ask(supervisor, { spawn: 'MemoryHog' }, 5000)) as ActorAddress;
    await sys.ask(hog, 'thread', 5000);
    const hanging = sys.ask(hog, 'hog', 30_000);
    await expect(hanging).rejects.toBeInstanceOf(DeadActorError);
    const report = (await sys.listen(30_000)) as { exited: ActorAddress };
    expect(report.exited.equals(hog)).toBe(true);
    expect(logs.some((line) => line.includes('ERR_WORKER_OUT_OF_MEMORY') || line.includes('out of memory'))).toBe(true);
    expect(typeof (await sys.ask(bystander, 'thread', 5000))).toBe('number');
  });

  it('drops and logs a message that cannot be encoded for another thread; the rest of its batch and the link go on', async () => {
    const sys = await start(1);
    const echo = await sys.createActor(Echo, { host: 'worker' });
    const replies: unknown[] = [];
    const asks = [sys.ask(echo, 'before', 10_000), sys.ask(echo, { notData: () => 1 }, 300).catch((error: Error) => error.name), sys.ask(echo, 'after', 10_000)];
    replies.push(...(await Promise.all(asks)));
    expect(replies).toEqual(['before', 'ActorTimeoutError', 'after']);
    expect(logs.some((line) => /^error 1 frame\(s\) to .* could not be encoded; dropped/.test(line))).toBe(true);
    expect(await sys.ask(echo, 'still here', 10_000)).toBe('still here');
  });

  it('refuses a class with no static module, saying how to fix it', async () => {
    const sys = await start(1);
    class Local extends Actor {
      receiveMessage(): void {}
    }
    const error = await sys.createActor(Local).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidActorSpecError);
    expect((error as Error).message).toContain('static module = import.meta.url');
  });
});

describe('troupes on workers', () => {
  it('spreads members over the pool threads', async () => {
    const sys = await start(2);
    const { Squarer } = await import('./fixtures/troupe-actors.js');
    const troupe = await sys.createActor(Squarer);
    const replies = (await Promise.all(Array.from({ length: 9 }, (_, i) => sys.ask(troupe, i, 5000)))) as Array<{ thread: number }>;
    expect(new Set(replies.map((r) => r.thread)).size).toBe(2);
  });
});
