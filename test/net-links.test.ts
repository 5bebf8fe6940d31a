// Systems on the network: the admin port, links between systems (plain and
// TLS), ordered streams both ways, several systems in one process, and link
// sessions that survive resets without losing or duplicating a message.
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, SystemConnectionError, ThespisError, type ActorSystemOptions } from '../dist/index.js';
import { Counter, Streamer, Where } from './fixtures/net/actors.js';
import { Proxy, members, shutdownAll, spawnSystem, startSystem, stopAll, eventually } from './net-helpers.js';


afterEach(async () => {
  await shutdownAll();
  await stopAll();
});

const SECRET = 'correct horse battery staple';

describe.each([
  ['plain TCP', {}],
  ['TLS with a secret', { secret: SECRET }],
] as Array<[string, ActorSystemOptions]>)('links over %s', (_name, extra) => {
  it('binds the admin port and reports the address it really bound', async () => {
    const system = await startSystem({ admin: { port: 0 }, ...extra });
    expect(system.adminAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(system.adminAddress).not.toBe('127.0.0.1:0');
    expect((await system.status()).adminAddress).toBe(system.adminAddress);
  });

  it('carries asks and ordered streams of 20,000 messages both ways between two systems in one process', async () => {
    const a = await startSystem({ admin: { port: 0 }, ...extra });
    const b = await startSystem({ admin: { port: 0 }, convention: { leader: a.adminAddress! }, ...extra });
    await Promise.all([members(a, 2), members(b, 2)]);
    const onA = await a.createActor(Counter);
    const onB = await b.createActor(Counter);
    expect(await a.ask(await b.createActor(Where), 'hi', 5000)).toMatchObject({ message: 'hi' });
    const streamA = await a.createActor(Streamer);
    const streamB = await b.createActor(Streamer);
    await Promise.all([
      a.ask(streamA, { stream: { to: onB, n: 20_000, batch: 500 } }, 30_000),
      b.ask(streamB, { stream: { to: onA, n: 20_000, batch: 500 } }, 30_000),
    ]);
    await eventually(async () => ((await b.ask(onB, 'count', 5000)) as { count: number }).count === 20_000 || undefined, 20_000);
    await eventually(async () => ((await a.ask(onA, 'count', 5000)) as { count: number }).count === 20_000 || undefined, 20_000);
    expect(await b.ask(onB, 'count', 5000)).toEqual({ count: 20_000, duplicates: 0, gaps: 0 });
    expect(await a.ask(onA, 'count', 5000)).toEqual({ count: 20_000, duplicates: 0, gaps: 0 });
  }, 60_000);

  it('runs several systems in one process, each with its own port', async () => {
    const systems = await Promise.all([1, 2, 3].map(() => startSystem({ admin: { port: 0 }, ...extra })));
    expect(new Set(systems.map((s) => s.adminAddress)).size).toBe(3);
    const echoes = await Promise.all(systems.map((s) => s.createActor(Where)));
    // The first invites the others; they learn of each other from it, and every pair links.
    for (const s of systems.slice(1)) systems[0]!.preRegisterRemoteSystem(s.adminAddress!);
    await Promise.all(systems.map((s) => members(s, 3)));
    const replies = await Promise.all(systems.map((s, i) => s.ask(echoes[(i + 1) % 3]!, i, 5000)));
    expect(replies.map((r) => (r as { message: number }).message)).toEqual([0, 1, 2]);
  });

  it('carries asks and streams between systems in separate processes', async () => {
    const leader = await spawnSystem({ base: 'workers', workers: 2, admin: { port: 0 }, ...extra });
    const member = await spawnSystem({ base: 'processes', admin: { port: 0 }, convention: { leader: leader.adminAddress }, ...extra });
    const client = await ActorSystem.connect(leader.adminAddress, { secret: extra.secret });
    try {
      await eventually(async () => ((await client.status()).convention.length === 2) || undefined, 10_000);
      const counter = await client.createActor(Counter);
      // A streamer on the member system (a process actor there), sending to the counter on the leader.
      const memberClient = await ActorSystem.connect(member.adminAddress, { secret: extra.secret });
      const streamer = await memberClient.createActor(Streamer);
      await memberClient.ask(streamer, { stream: { to: counter, n: 30_000, batch: 1000 } }, 30_000);
      await eventually(async () => ((await client.ask(counter, 'count', 5000)) as { count: number }).count === 30_000 || undefined, 30_000);
      expect(await client.ask(counter, 'count', 5000)).toEqual({ count: 30_000, duplicates: 0, gaps: 0 });
      await memberClient.close();
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('link sessions', () => {
  it('loses and duplicates nothing when the connection is reset mid-stream, again and again (100,000 messages)', async () => {
    const a = await startSystem({ admin: { port: 0 }, convention: { deadAfterMs: 5000 } });
    const proxy = new Proxy(a.adminAddress!);
    await proxy.listen();
    const b = await startSystem({ admin: { port: 0 }, convention: { leader: proxy.address, deadAfterMs: 5000 } });
    try {
      await Promise.all([members(a, 2), members(b, 2)]);
      const counter = await a.createActor(Counter);
      const streamer = await b.createActor(Streamer);
      const sent = b.ask(streamer, { stream: { to: counter, n: 100_000, batch: 200 } }, 60_000);
      // Reset whatever connection carries the stream, five times while it flows.
      let cuts = 0;
      for (let cut = 1; cut <= 5; cut++) {
        await eventually(async () => ((await a.ask(counter, 'count', 10_000)) as { count: number }).count >= cut * 15_000 || undefined, 30_000);
        await eventually(() => proxy.live > 0 || undefined, 10_000);
        cuts += proxy.reset();
      }
      expect(cuts).toBe(5);
      await sent;
      await eventually(async () => ((await a.ask(counter, 'count', 10_000)) as { count: number }).count >= 100_000 || undefined, 30_000);
      expect(await a.ask(counter, 'count', 10_000)).toEqual({ count: 100_000, duplicates: 0, gaps: 0 });
      // It redialled after each reset, and nobody counted the other gone.
      await eventually(() => proxy.live === 1 || undefined, 10_000);
      expect(proxy.connections).toBeGreaterThanOrEqual(6);
      expect((await a.status()).convention).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  }, 120_000);
});

describe('the admin port’s exposure', () => {
  it('refuses a non-loopback host without a secret unless insecure', async () => {
    await expect(startSystem({ admin: { port: 0, host: '0.0.0.0' } })).rejects.toThrow(ThespisError);
    await expect(startSystem({ admin: { port: 0, host: '0.0.0.0' } })).rejects.toThrow(/without a secret/);
    const open = await startSystem({ admin: { port: 0, host: '0.0.0.0' }, insecure: true });
    expect(open.adminAddress).toMatch(/:\d+$/);
    const secured = await startSystem({ admin: { port: 0, host: '0.0.0.0' }, secret: SECRET });
    expect(secured.adminAddress).toMatch(/:\d+$/);
  });

  it('refuses a taken port with the reason', async () => {
    const first = await startSystem({ admin: { port: 0 } });
    const port = Number(first.adminAddress!.split(':')[1]);
    await expect(startSystem({ admin: { port } })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('addresses as text', () => {
  it('prints an address as text that ActorAddress.parse reads back, across systems', async () => {
    const a = await startSystem({ admin: { port: 0 } });
    const b = await startSystem({ base: 'workers', workers: 2, admin: { port: 0 }, convention: { leader: a.adminAddress! } });
    await members(a, 2);
    const where = await b.createActor(Where);
    const text = String(where);
    const parsed = ActorAddress.parse(text);
    expect(parsed.equals(where)).toBe(true);
    expect(parsed.kernel).toBe(where.kernel);
    expect(await a.ask(parsed, 'typed by hand', 5000)).toMatchObject({ message: 'typed by hand' });
    expect(() => ActorAddress.parse('not an address')).toThrow(/not an actor address/);
    expect(String(ActorAddress.parse('name:clock'))).toBe('name:clock');
  });

  it('rejects connect to a port where nothing listens with SystemConnectionError', async () => {
    const a = await startSystem({ admin: { port: 0 } });
    const address = a.adminAddress!;
    await a.shutdown();
    await expect(ActorSystem.connect(address, { connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(SystemConnectionError);
  });
});

describe('the example', () => {
  it('examples/two-systems.js runs: placement on the member with the GPU, asked from the leader and from a client', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const example = fileURLToPath(new URL('../examples/two-systems.js', import.meta.url));
    const { stdout: out, stderr, status } = spawnSync(process.execPath, [example], { encoding: 'utf8', timeout: 30_000 });
    expect(status).toBe(0);
    // The member's shutdown stops the actor the leader placed on it at once
    // (its parent is on another system), not after the 10 s cap.
    expect(stderr).not.toMatch(/did not stop in time/);
    const member = /member is ([0-9a-f]+)/.exec(out)![1];
    expect(out).toContain(`onSystem: '${member}'`);
    expect(out).toMatch(/through a client: \{ trained: 'model-2'/);
    expect(out).toMatch(/members: .*\(leader\)/);
  });
});
