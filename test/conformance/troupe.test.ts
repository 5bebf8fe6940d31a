import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorExitRequest, ActorSystem, DeadActorError } from '../../dist/index.js';
import { Gatherer, SquareClient, Squarer } from '../fixtures/troupe-actors.js';
import { BASES, startSystem } from './bases.js';

type Reply = { square: number; member: string; thread: number };
type Gathered = { member: string; start: number; end: number };

/** The most intervals [start, end) that overlap at one time. */
function mostAtOnce(intervals: Gathered[]): number {
  const edges = intervals.flatMap((r) => [[r.start, 1] as const, [r.end, -1] as const]);
  // At the same millisecond an end comes first: a member's next message follows its last.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (now += step));
  return most;
}

describe.each(BASES)('troupes on %s', (base) => {
  let system: ActorSystem;
  beforeAll(async () => {
    ({ system } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('has up to max members at work at once, never more', async () => {
    const troupe = await system.createActor(Gatherer);
    // Three members, started and kept (idle = max), so their start-up time does not blur the overlap.
    const warm = (await Promise.all([0, 1, 2].map(() => system.ask(troupe, { until: 0 }, 10_000)))) as Gathered[];
    expect(new Set(warm.map((r) => r.member)).size).toBe(3);
    // Twelve at once, all held until one moment: only max = 3 can be in hand together.
    const until = Date.now() + 500;
    const replies = (await Promise.all(Array.from({ length: 12 }, () => system.ask(troupe, { until }, 10_000)))) as Gathered[];
    expect(mostAtOnce(replies)).toBe(3);
    expect(new Set(replies.map((r) => r.member))).toEqual(new Set(warm.map((r) => r.member)));
  });

  it('hands each message to one member and each reply reaches its sender', async () => {
    const troupe = await system.createActor(Squarer);
    const replies = (await Promise.all(Array.from({ length: 12 }, (_, i) => system.ask(troupe, i, 5000)))) as Reply[];
    expect(replies.map((r) => r.square)).toEqual(Array.from({ length: 12 }, (_, i) => i * i));
    const members = new Set(replies.map((r) => r.member));
    expect(members.size).toBeGreaterThan(1);
    expect(members.size).toBeLessThanOrEqual(3);
    expect(members.has(troupe.id)).toBe(false);

    const client = await system.createActor(SquareClient);
    expect(await system.ask(client, { troupe, n: 7 }, 5000)).toEqual([0, 1, 4, 9, 16, 25, 36]);
  });

  it('stops its members when the troupe is asked to exit', async () => {
    const troupe = await system.createActor(Squarer);
    const reply = (await system.ask(troupe, 3, 5000)) as Reply;
    const before = (await system.status()).actors;
    system.tell(troupe, new ActorExitRequest());
    await expect(system.ask(troupe, 4, 5000)).rejects.toBeInstanceOf(DeadActorError);
    expect(reply.square).toBe(9);
    expect((await system.status()).actors).toBeLessThan(before - 1);
  });
});
