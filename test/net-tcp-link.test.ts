// Links between systems over plain TCP read the socket's descriptor with the
// addon (handshake.ts, peerLinkAfterHello: an FdLink that polls briefly after
// each batch), and fall back to the net.Socket without it or under TLS. Both
// ways: bytes read with the hello come first, records keep their order both
// ways, ending one side closes both, and no descriptor is left open; two
// systems whose ends differ (one with the addon, one without) interoperate.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { peerLinkAfterHello } from '../dist/net/handshake.js';
import { coreToSpare } from '../dist/net/spare-core.js';
import { native } from '../dist/native.js';
import { FdLink } from '../dist/transport/fd-link.js';
import { clientTlsOptions, derivePsk, serverTlsOptions } from '../dist/net/secret.js';
import { Counter, Streamer, Where } from './fixtures/net/actors.js';
import { members, shutdownAll, spawnSystem, startSystem, stopAll } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

afterEach(async () => {
  await shutdownAll();
  await stopAll();
});

const CHECK = fileURLToPath(new URL('./fixtures/net/tcp-link-check.mjs', import.meta.url));

async function runCheck(env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [CHECK], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  expect(code).toBe(0);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('links between systems over plain TCP', () => {
  it('with the addon: an fd link each side, the hello’s leftovers first, 20,000 records each way in order, closed cleanly, no descriptor left', async () => {
    const result = await runCheck({ THESPIS_NO_NATIVE: '' }); // as built, whatever this run was told
    expect(result).toEqual({ native: true, kinds: ['FdLink', 'FdLink'], inOrder: true, got: [20_000, 20_000], closed: ['clean', 'clean'], fdsLeft: 0 });
  }, 60_000);

  it('without the addon (THESPIS_NO_NATIVE=1): the net.Socket, with the same guarantees', async () => {
    const result = await runCheck({ THESPIS_NO_NATIVE: '1' });
    expect(result).toEqual({ native: false, kinds: ['StreamLink', 'StreamLink'], inOrder: true, got: [20_000, 20_000], closed: ['clean', 'clean'], fdsLeft: 0 });
  }, 60_000);

  it('keeps a TLS connection on its TLS socket (the descriptor carries ciphertext)', async () => {
    const psk = derivePsk('correct horse battery staple');
    const server = createTlsServer(serverTlsOptions(psk));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'secureConnection');
    const client = tlsConnect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, ...clientTlsOptions(psk) });
    await once(client, 'secureConnect');
    const [socket] = (await accepted) as [import('node:net').Socket];
    const got: string[] = [];
    const { link, start } = peerLinkAfterHello(socket, new Uint8Array(0), { onRecord: (r) => got.push(Buffer.from(r).toString()), onClosed: () => undefined });
    start();
    expect(link.constructor.name).toBe('StreamLink');
    const frame = Buffer.alloc(6);
    frame.writeUInt32BE(2, 0);
    frame.write('hi', 4);
    client.write(frame);
    await eventually(async () => got.length === 1 || undefined, 5000);
    expect(got).toEqual(['hi']);
    client.destroy();
    socket.destroy();
    server.close();
  });

  it('falls back to the net.Socket when something still waits in its write queue', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const { connect } = await import('node:net');
    const client = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    await once(client, 'connect');
    const [socket] = (await accepted) as [import('node:net').Socket];
    client.pause(); // nobody reads: the server's big write cannot all leave at once
    socket.write(Buffer.alloc(32 * 1024 * 1024));
    expect(socket.writableLength).toBeGreaterThan(0);
    const { link } = peerLinkAfterHello(socket, new Uint8Array(0), { onRecord: () => undefined, onClosed: () => undefined });
    expect(link.constructor.name).toBe('StreamLink');
    link.destroy(new Error('done'));
    client.destroy();
    server.close();
  });

  it('carries asks and an ordered stream between a system with the addon and one without', async () => {
    const near = await startSystem({ admin: { port: 0 } });
    const far = await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: near.adminAddress! }, capabilities: { far: true } }, { env: { THESPIS_NO_NATIVE: '1' } });
    await members(near, 2);
    const where = await near.createActor(Where, { requirements: { far: true } });
    expect(await near.ask(where, 'hi', 5000)).toMatchObject({ message: 'hi', pid: far.pid });
    const counterFar = await near.createActor(Counter, { requirements: { far: true } });
    const counterNear = await near.createActor(Counter);
    const streamerFar = await near.createActor(Streamer, { requirements: { far: true } });
    const streamerNear = await near.createActor(Streamer);
    await Promise.all([
      near.ask(streamerNear, { stream: { to: counterFar, n: 20_000, batch: 500 } }, 30_000),
      near.ask(streamerFar, { stream: { to: counterNear, n: 20_000, batch: 500 } }, 30_000),
    ]);
    for (const counter of [counterFar, counterNear]) {
      await eventually(async () => ((await near.ask(counter, 'count', 5000)) as { count: number }).count === 20_000 || undefined, 20_000);
      expect(await near.ask(counter, 'count', 5000)).toEqual({ count: 20_000, duplicates: 0, gaps: 0 });
    }
  }, 60_000);
});

describe('polling after a batch on a link between systems', () => {
  it('is allowed only while the load average leaves a core beyond a conversation’s two', () => {
    expect(coreToSpare(0.3, 2)).toBe(true);
    expect(coreToSpare(2.9, 2)).toBe(true);
    expect(coreToSpare(3, 2)).toBe(false);
    expect(coreToSpare(24, 2)).toBe(false);
    expect(coreToSpare(9, 16)).toBe(true);
  });

  // The fd link exists only with the addon (as in fd-link.test.ts).
  it.runIf(native !== null)('asks before it polls, and does not poll when told not to', async () => {
    const addon = native!;
    const [mine, theirs] = addon.socketPair();
    let asked = 0;
    let polls = 0;
    const got: number[] = [];
    const link = new FdLink(mine, 1024, () => 0, { onRecord: (r) => got.push(r[0]!), onClosed: () => undefined }, 50, () => (asked++, false));
    const recv = addon.recvFds.bind(addon);
    addon.recvFds = ((fd: number, max: number, maxFds: number) => (fd === mine && got.length > 0 && polls++, recv(fd, max, maxFds))) as typeof addon.recvFds;
    try {
      addon.sendFds(theirs, Uint8Array.from([0, 0, 0, 1, 7]), []);
      await eventually(async () => got.length === 1 || undefined, 5000);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      expect(got).toEqual([7]);
      expect(asked).toBeGreaterThan(0);
      expect(polls).toBe(0); // no read after the one that brought the record
    } finally {
      addon.recvFds = recv;
      link.destroy(new Error('done'));
      const { closeSync } = await import('node:fs');
      closeSync(theirs);
    }
  });
});

