// A real partition: two systems in network namespaces of their own, joined
// by a veth pair that the test takes down and brings back up. Both sides
// declare the other gone within deadAfterMs, rejoin after healing, and no
// message is ever delivered twice. Needs root and iproute2 (`ip netns`).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSystem, stopAll, type SystemProcess } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

function canMakeNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const available = canMakeNamespaces();
if (!available) console.log('net-partition: skipped (needs root and the iproute2 package for `ip netns`)');

const FAST = { heartbeatMs: 100, deadAfterMs: 1000 };
const SECRET = 'partition test secret';
const ACTORS = new URL('./fixtures/net/actors.js', import.meta.url).href;

describe.runIf(available)('a partition between two namespaces', () => {
  const tag = randomBytes(3).toString('hex');
  const nsA = `thespis-a-${tag}`;
  const nsB = `thespis-b-${tag}`;
  // A /30 of its own per run, so parallel runs cannot collide.
  const octet = 1 + (randomBytes(1)[0]! % 250);
  const ipA = `10.251.${octet}.1`;
  const ipB = `10.251.${octet}.2`;
  const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });

  beforeAll(() => {
    ip('netns', 'add', nsA);
    ip('netns', 'add', nsB);
    ip('link', 'add', `va${tag}`, 'type', 'veth', 'peer', 'name', `vb${tag}`);
    ip('link', 'set', `va${tag}`, 'netns', nsA);
    ip('link', 'set', `vb${tag}`, 'netns', nsB);
    ip('-n', nsA, 'addr', 'add', `${ipA}/30`, 'dev', `va${tag}`);
    ip('-n', nsB, 'addr', 'add', `${ipB}/30`, 'dev', `vb${tag}`);
    for (const [ns, dev] of [[nsA, `va${tag}`], [nsB, `vb${tag}`]] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  });

  afterAll(async () => {
    await stopAll();
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

  const members = async (system: SystemProcess): Promise<number> =>
    ((await system.command({ op: 'status' })).status as { convention: unknown[] }).convention.length;

  it('both sides declare the other gone within deadAfterMs, rejoin after healing, and nothing is duplicated', async () => {
    const a = await spawnSystem({ base: 'inline', admin: { port: 0, host: ipA }, secret: SECRET, convention: FAST }, nsA);
    const b = await spawnSystem({ base: 'inline', admin: { port: 0, host: ipB }, secret: SECRET, convention: { leader: a.adminAddress, ...FAST } }, nsB);
    await eventually(async () => ((await members(a)) === 2 && (await members(b)) === 2) || undefined, 10_000);
    const counter = (await a.command({ op: 'create', spec: `${ACTORS}#Counter` })).address as string;
    const streamer = (await b.command({ op: 'create', spec: `${ACTORS}#Streamer` })).address as string;
    const count = async (): Promise<{ count: number; duplicates: number; gaps: number }> =>
      (await a.command({ op: 'ask', to: counter, message: 'count' })).reply as { count: number; duplicates: number; gaps: number };
    // A slow stream (20 messages every 5 ms), still flowing when the cable is cut and after it heals.
    const stream = b.command({ op: 'ask', to: streamer, message: { stream: { to: { $address: counter }, n: 20_000, batch: 20, everyMs: 5 } }, timeoutMs: 60_000 });
    await eventually(async () => (await count()).count > 1000 || undefined, 10_000);

    const cut = Date.now();
    ip('-n', nsA, 'link', 'set', `va${tag}`, 'down');
    await eventually(async () => ((await members(a)) === 1 && (await members(b)) === 1) || undefined, 10_000);
    const detected = Date.now() - cut;
    expect(detected).toBeLessThan(FAST.deadAfterMs * 3 + 2000);
    expect(a.stderr.some((l) => l.includes('left the convention: nothing came from it'))).toBe(true);
    expect(b.stderr.some((l) => l.includes('left the convention: nothing came from it'))).toBe(true);

    ip('-n', nsA, 'link', 'set', `va${tag}`, 'up');
    await eventually(async () => ((await members(a)) === 2 && (await members(b)) === 2) || undefined, 15_000);
    expect((await count()).count).toBeLessThan(20_000);
    await stream;
    // What was in flight when the cable was cut is lost (and reported as dead
    // letters); nothing arrives twice, and the stream goes on after healing.
    const after = await count();
    expect(after.duplicates).toBe(0);
    const more = (await b.command({ op: 'create', spec: `${ACTORS}#Streamer` })).address as string;
    await b.command({ op: 'ask', to: more, message: { stream: { to: { $address: counter }, n: 1000, batch: 100 } }, timeoutMs: 10_000 });
    await eventually(async () => (await count()).count >= after.count + 1000 || undefined, 10_000);
    expect((await count()).duplicates).toBe(0);
  }, 90_000);
});
