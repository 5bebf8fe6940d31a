// Flow notices between systems: an actor created from another system has an
// id minted there, so "congested" and "relieved" about it must say whose
// kernel it is on, or the sending system refuses the "relieved" as a notice
// about a third system and its senders stay paused until the lease runs out.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameKind } from '../dist/core/protocol.js';
import { foreignFrameProblem } from '../dist/net/foreign.js';
import { Counter, Streamer } from './fixtures/net/actors.js';
import { members, shutdownAll, spawnSystem, startSystem, stopAll } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

afterEach(async () => {
  await shutdownAll();
  await stopAll();
});

const peer = { system: 'f00d', self: 'beef', selfKernel: 'beef:main', adminId: 'beef:main.admin' };

describe('flow notices from another system', () => {
  it('accepts notices about the peer’s own kernels, whoever minted the actor id, and refuses ones about a third system', () => {
    const about = (op: object): string | null => foreignFrameProblem([FrameKind.Control, op] as never, peer);
    expect(about({ op: 'congested', scope: 'beef:main.5', kernel: 'f00d:main', leaseMs: 2000 })).toBeNull();
    expect(about({ op: 'relieved', scope: 'beef:main.5', kernel: 'f00d:main' })).toBeNull();
    expect(about({ op: 'relieved', scope: 'f00d:main.7' })).toBeNull();
    expect(about({ op: 'relieved', scope: 'beef:main.5', kernel: 'cafe:main' })).toMatch(/third system/);
    expect(about({ op: 'congested', scope: 'cafe:main.1' })).toMatch(/third system/);
  });

  it('relieves the senders to a slow actor placed on another system', async () => {
    const logs: string[] = [];
    // The sender on a worker thread, so the main thread reads notices while it streams.
    const near = await startSystem({ base: 'workers', workers: 1, admin: { port: 0 } }, logs);
    const far = await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: near.adminAddress! }, capabilities: { far: true } });
    await members(near, 2);
    const counter = await near.createActor(Counter, { requirements: { far: true } });
    expect(counter.kernel).toBe(`${far.systemId}:main`);
    // 100 µs a message: 20,000 take the counter 2 s, far longer than the
    // stream takes to send, so its mailbox passes MAILBOX_HIGH (congested,
    // told to the sender's system) and is later worked down (relieved).
    await near.ask(counter, { cost: 100 }, 5000);
    const streamer = await near.createActor(Streamer);
    const n = 20_000;
    await near.ask(streamer, { stream: { to: counter, n, batch: 1000 } }, 60_000);
    // An ask waits behind what is in the counter's mailbox: allow for a slow machine.
    await eventually(async () => ((await near.ask(counter, 'count', 60_000)) as { count: number }).count === n || undefined, 90_000);
    expect(await near.ask(counter, 'count', 60_000)).toEqual({ count: n, duplicates: 0, gaps: 0 });
    expect(logs.filter((line) => /flow notice/.test(line))).toEqual([]);
  }, 180_000);
});
