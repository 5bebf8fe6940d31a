// Shutdown does not drain mailboxes (DESIGN.md, "Semantics everyone can rely
// on"): each actor finishes the handler it is running and stops, children
// first; what is still queued is dropped and counted as dead letters, never
// handled; a user's own ActorExitRequest keeps mailbox order.
import { afterEach, describe, expect, it } from 'vitest';
import { ActorExitRequest, ActorSystemShutdownError, type ActorAddress, type ActorSystem, type MessageEndpoint } from '../../dist/index.js';
import { SlowWorker } from '../fixtures/shutdown-actors.js';
import { Gatherer } from '../fixtures/troupe-actors.js';
import { BASES, eventually, startSystem as startBase } from './bases.js';
import { alive } from '../proc.js';

/** A 1 ms message: a backlog of BACKLOG of them takes 5 s or more to drain. */
const WORK = { work: 1 };
const BACKLOG = 5000;
/**
 * Shutdown within about 1 s plus the longest handler still running. The
 * bound allows for a loaded machine; draining the backlog would take 5 s or
 * more (and used to hit the 10 s cap).
 */
const PROMPT_MS = 2500;

/** Each test shuts its system down itself; this one is for a test that failed before it could. */
let running: ActorSystem | undefined;
afterEach(() => running?.shutdown());

async function startSystem(base: string, options: Parameters<typeof startBase>[1] = {}): ReturnType<typeof startBase> {
  const started = await startBase(base, options);
  running = started.system;
  return started;
}

interface Report {
  name: string;
  started?: boolean;
  holding?: boolean;
  hanging?: boolean;
  pid?: number;
  finished?: boolean;
  exit?: boolean;
  handled?: number;
}

/** Everything `endpoint` receives, until the system closes it. */
function collect(endpoint: MessageEndpoint): Report[] {
  const reports: Report[] = [];
  void (async () => {
    for (;;) {
      try {
        reports.push((await endpoint.listen()) as Report);
      } catch {
        return; // closed by the shutdown
      }
    }
  })();
  return reports;
}

/** The count in the shutdown's log line ("shutdown: N queued message(s) dropped ..."), 0 when there is none. */
function droppedAtShutdown(logs: string[]): number {
  const line = logs.find((l) => l.includes('queued message(s) dropped'));
  return line === undefined ? 0 : Number(/shutdown: (\d+) queued/.exec(line)![1]);
}

/** A chain of `depth` SlowWorkers reporting to `reportTo`, top first. */
async function chain(system: ActorSystem, reportTo: ActorAddress, depth: number, name: string): Promise<ActorAddress[]> {
  const top = await system.createActor(SlowWorker);
  return (await system.ask(top, { setup: { name, reportTo, depth } }, 10_000)) as ActorAddress[];
}

async function waitFor(reports: Report[], check: (r: Report) => boolean | undefined): Promise<Report> {
  return eventually(() => reports.find((r) => check(r) === true), 10_000);
}

describe.each(BASES)('shutdown on %s', (base) => {
  it('finishes the message in hand, drops the backlog and counts it, promptly', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const inbox = system.private();
    const reports = collect(inbox);
    const [worker] = await chain(system, inbox.address, 1, 'worker');
    for (let i = 0; i < BACKLOG; i++) system.tell(worker!, WORK);
    await waitFor(reports, (r) => r.started);

    const began = Date.now();
    await system.shutdown();
    const took = Date.now() - began;

    const exit = reports.find((r) => r.exit)!;
    expect(exit).toBeDefined();
    // It stopped long before the backlog was done, and every message it did
    // not handle was counted: none is handled after its exit, none is lost.
    expect(exit.handled!).toBeLessThan(BACKLOG / 2);
    expect(exit.handled! + droppedAtShutdown(logs)).toBe(BACKLOG);
    expect(took).toBeLessThan(PROMPT_MS);
    expect(logs.filter((l) => l.includes('did not stop in time'))).toEqual([]);
  });

  it('waits for a running handler to finish, then stops the actor without handling its queue', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const inbox = system.private();
    const reports = collect(inbox);
    const [holder] = await chain(system, inbox.address, 1, 'holder');
    system.tell(holder!, { hold: 600 });
    for (let i = 0; i < 100; i++) system.tell(holder!, WORK);
    await waitFor(reports, (r) => r.holding);

    const began = Date.now();
    await system.shutdown();
    const took = Date.now() - began;
    expect(reports.map((r) => Object.keys(r).filter((k) => k !== 'name' && k !== 'handled'))).toEqual([['holding'], ['finished'], ['exit']]);
    expect(reports.at(-1)!.handled).toBe(0);
    expect(droppedAtShutdown(logs)).toBe(100);
    expect(took).toBeLessThan(600 + PROMPT_MS);
  });

  it('stops a tree with a backlog at every level: each sees its exit, parents first, and handles nothing queued', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const inbox = system.private();
    const reports = collect(inbox);
    const nodes = await chain(system, inbox.address, 3, 'root');
    for (const node of nodes) for (let i = 0; i < BACKLOG; i++) system.tell(node, WORK);
    await eventually(() => (reports.filter((r) => r.started).length === 3 ? true : undefined), 10_000);

    const began = Date.now();
    await system.shutdown();
    const took = Date.now() - began;
    const exits = reports.filter((r) => r.exit);
    // ActorExitRequest goes top-down (lifecycle.test.ts proves the deaths go bottom-up).
    expect(exits.map((r) => r.name)).toEqual(['root', 'root.child', 'root.child.child']);
    for (const exit of exits) expect(exit.handled!).toBeLessThan(BACKLOG / 2);
    const handled = exits.reduce((n, r) => n + r.handled!, 0);
    expect(handled + droppedAtShutdown(logs)).toBe(BACKLOG * 3);
    expect(took).toBeLessThan(PROMPT_MS);
  });

  it('stops promptly a subtree that was already stopping, whose exit requests wait behind a backlog', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const inbox = system.private();
    const reports = collect(inbox);
    const [parent, child] = await chain(system, inbox.address, 2, 'parent');
    for (let i = 0; i < BACKLOG; i++) system.tell(child!, WORK);
    await waitFor(reports, (r) => r.name === 'parent.child' && r.started);
    // The parent stops at once and asks its child to: that request waits behind the child's backlog.
    system.tell(parent!, new ActorExitRequest());
    await waitFor(reports, (r) => r.name === 'parent' && r.exit);

    const began = Date.now();
    await system.shutdown();
    const took = Date.now() - began;
    const exit = reports.find((r) => r.name === 'parent.child' && r.exit)!;
    expect(exit.handled! + droppedAtShutdown(logs)).toBe(BACKLOG);
    expect(took).toBeLessThan(PROMPT_MS);
    expect(logs.filter((l) => l.includes('did not stop in time'))).toEqual([]);
  });

  it('drops what waits in a troupe for a free member, and lets the members finish what they hold', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const troupe = await system.createActor(Gatherer); // max 3, all kept
    await Promise.all([0, 1, 2].map(() => system.ask(troupe, { until: 0 }, 10_000)));
    const inbox = system.private();
    const replies = collect(inbox);
    // At most three in hand (until `until`), the rest wait in the troupe for a member.
    const until = Date.now() + 300;
    for (let i = 0; i < 12; i++) inbox.tell(troupe, { until });
    await system.status(); // every kernel has taken what was sent to it before
    await system.shutdown();
    // Those given to a member before the shutdown reached it are handled; every other one is counted.
    expect(replies.length).toBeLessThanOrEqual(3);
    expect(droppedAtShutdown(logs)).toBeGreaterThanOrEqual(9);
    expect(replies.length + droppedAtShutdown(logs)).toBe(12);
  });

  it('does the same when an actor calls actorSystemShutdown()', async () => {
    const { system, logs } = await startSystem(base, { logLevel: 'info' });
    const inbox = system.private();
    const reports = collect(inbox);
    const [worker, stopper] = [(await chain(system, inbox.address, 1, 'worker'))[0]!, (await chain(system, inbox.address, 1, 'stopper'))[0]!];
    for (let i = 0; i < BACKLOG; i++) system.tell(worker, WORK);
    await waitFor(reports, (r) => r.started);

    const closed = system.listen();
    const began = Date.now();
    system.tell(stopper, 'shutdown');
    await expect(closed).rejects.toBeInstanceOf(ActorSystemShutdownError);
    await system.shutdown(); // the same shutdown, already under way
    const took = Date.now() - began;
    const exit = reports.find((r) => r.name === 'worker' && r.exit)!;
    expect(exit.handled! + droppedAtShutdown(logs)).toBe(BACKLOG);
    expect(took).toBeLessThan(PROMPT_MS);
  });
});

// The cap: a handler that never returns holds its actor, so after 10 s the
// system stops its threads and processes anyway (two bases, a thread and a
// process: it takes 10 s each). A spawned process: a forked one also ends
// with its zygote, which would hide a process link left open.
describe.each(['workers', 'processes:spawn'])('shutdown with a handler that never returns on %s', (base) => {
  it('gives up waiting after 10 s, says so, and stops the threads and processes anyway', { timeout: 30_000 }, async () => {
    const { system, logs } = await startSystem(base);
    const inbox = system.private();
    const reports = collect(inbox);
    const [stuck] = await chain(system, inbox.address, 1, 'stuck');
    system.tell(stuck!, 'hang');
    await waitFor(reports, (r) => r.hanging);
    const began = Date.now();
    await system.shutdown();
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(10_000);
    expect(took).toBeLessThan(10_000 + PROMPT_MS);
    expect(logs.some((l) => l.includes('did not stop in time; stopping their threads'))).toBe(true);
    expect(reports.some((r) => r.exit)).toBe(false);
    // The actor's process (or the test's own, for a thread) is stopped with the system.
    const { pid } = reports.find((r) => r.hanging)!;
    if (base.startsWith('processes')) {
      expect(pid).not.toBe(process.pid);
      expect(alive(pid!)).toBe(false);
    }
  });
});

describe.each(BASES)('ActorExitRequest from a user on %s', (base) => {
  it('keeps mailbox order: what came before it is handled, what came after is a dead letter', async () => {
    const { system } = await startSystem(base);
    try {
      const inbox = system.private();
      const reports = collect(inbox);
      const [worker] = await chain(system, inbox.address, 1, 'worker');
      const droppedBefore = (await system.status()).deadLetters.dropped;
      const before = 300;
      const after = 50;
      for (let i = 0; i < before; i++) system.tell(worker!, WORK);
      system.tell(worker!, new ActorExitRequest());
      for (let i = 0; i < after; i++) system.tell(worker!, WORK);
      const exit = await waitFor(reports, (r) => r.exit);
      expect(exit.handled).toBe(before);
      const dropped = await eventually(async () => {
        const n = (await system.status()).deadLetters.dropped - droppedBefore;
        return n >= after ? n : undefined;
      });
      expect(dropped).toBe(after);
    } finally {
      await system.shutdown();
    }
  });
});
