// Socket hand-off: a net.Socket or net.Server inside a message arrives in
// another process (or thread) as a live socket on the same connection.
//
// Every conversation ends with the answering actor closing its descriptor
// without a shutdown: the client sees the end of the stream only when no
// other process (the listener, a relay, the system's process) still holds a
// copy, so each test also proves the hand-off left none behind.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as tlsCreateServer, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, nativeStatus, type ActorAddress, type BaseName, type Startup } from '../dist/index.js';
import { LineAnswerer, Listener, SocketPair, SocketRelay } from './fixtures/handoff-actors.js';

const DEADLINE_MS = 10_000;
const native = nativeStatus().available;
const STARTUPS: Startup[] = ['spawn', 'fork', 'forkserver'];

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function start(base: BaseName, startup?: Startup): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base, startup, workers: 2, logger: (r) => logs.push(`${r.level} ${r.message} ${r.detail ?? ''}`) });
  return system;
}

/**
 * Connects to `port`, sends each line (the first at once, the next after
 * each answer), then "quit"; resolves with the answers once the server side
 * has closed the connection.
 */
function talk(port: number, lines: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const answers: string[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no end of stream within ${DEADLINE_MS} ms; answers so far: ${JSON.stringify(answers)}`));
    }, DEADLINE_MS);
    let text = '';
    let sent = 0;
    const sendNext = (): void => void socket.write(`${sent < lines.length ? lines[sent++] : 'quit'}\n`);
    socket.setEncoding('utf8');
    socket.on('connect', sendNext);
    socket.on('data', (chunk: string) => {
      text += chunk;
      let newline: number;
      while ((newline = text.indexOf('\n')) >= 0) {
        answers.push(text.slice(0, newline));
        text = text.slice(newline + 1);
        if (sent <= lines.length && answers.length === sent) sendNext();
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answers);
    });
  });
}

function expected(pid: number, lines: string[]): string[] {
  return [...lines.map((line) => `${pid}: ${line.toUpperCase()}`), 'bye'];
}

async function pidOf(sys: ActorSystem, actor: ActorAddress): Promise<number> {
  return (await sys.ask(actor, 'pid', DEADLINE_MS)) as number;
}

async function listen(sys: ActorSystem, listener: ActorAddress, targets: ActorAddress[], via?: ActorAddress): Promise<{ port: number; pid: number }> {
  return (await sys.ask(listener, { listen: targets, via }, DEADLINE_MS)) as { port: number; pid: number };
}

/** A loopback connection made here: this side's accepted socket, the client, and the server (all closed by `close`). */
async function connectedPair(): Promise<{ accepted: Socket; client: Socket; close(): void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepting = once(server, 'connection') as Promise<[Socket]>;
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [accepted] = await accepting;
  return {
    accepted,
    client,
    close: () => {
      accepted.destroy();
      client.destroy();
      server.close();
    },
  };
}

/** Resolves once `socket` has received `bytes` bytes and then `tail`, with everything it received. */
function receive(socket: Socket | TLSSocket, bytes: number, tail: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(() => reject(new Error(`received ${have} bytes of ${bytes + tail.length} within ${DEADLINE_MS} ms`)), DEADLINE_MS);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= bytes + tail.length) {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      }
    });
  });
}

describe.each(['inline', 'workers'] as const)('sockets between actors of one kernel (%s)', (base) => {
  it('arrive as the object itself, open', async () => {
    const sys = await start(base);
    const server = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const pair = await sys.createActor(SocketPair, base === 'workers' ? { host: 'worker' } : {});
      const got = (await sys.ask(pair, { port: (server.address() as { port: number }).port }, DEADLINE_MS)) as { same: boolean; open: boolean; thread: number };
      expect(got).toMatchObject({ same: true, open: true });
      if (base === 'workers') expect(got.thread).not.toBe(0);
    } finally {
      server.close();
    }
  });
});

describe.runIf(native)('socket hand-off', () => {
  for (const startup of STARTUPS) {
    it(`hands accepted TCP connections from the system's process to process actors (${startup})`, async () => {
      const sys = await start('processes', startup);
      const answerers = [await sys.createActor(LineAnswerer), await sys.createActor(LineAnswerer)];
      const pids = await Promise.all(answerers.map((a) => pidOf(sys, a)));
      expect(new Set([process.pid, ...pids]).size).toBe(3);
      const listener = await sys.createActor(Listener, { host: 'inline' });
      const { port } = await listen(sys, listener, answerers);
      for (let i = 0; i < 4; i++) {
        const lines = [`hello ${i}`, `again ${i}`];
        expect(await talk(port, lines)).toEqual(expected(pids[i % 2]!, lines));
      }
    });
  }

  it('passes a connection from process to process, through a relay in a third', async () => {
    const sys = await start('processes', 'forkserver');
    const [listener, relay, answerer] = [await sys.createActor(Listener), await sys.createActor(SocketRelay), await sys.createActor(LineAnswerer)];
    const pids = [await pidOf(sys, relay), await pidOf(sys, answerer)];
    const { port, pid } = await listen(sys, listener, [answerer], relay);
    expect(new Set([process.pid, pid, ...pids]).size).toBe(4);
    const answers = await Promise.all([0, 1, 2].map((i) => talk(port, [`line ${i}`])));
    answers.forEach((got, i) => expect(got).toEqual(expected(pids[1]!, [`line ${i}`])));
  });

  it('passes connections between worker threads and processes, both ways', async () => {
    const sys = await start('workers');
    const onThread = await sys.createActor(LineAnswerer, { host: 'worker' });
    const inProcess = await sys.createActor(LineAnswerer, { host: 'process' });
    const processPid = await pidOf(sys, inProcess);
    expect(await pidOf(sys, onThread)).toBe(process.pid);
    // process → (the system's process) → thread, and thread → process
    const fromProcess = await sys.createActor(Listener, { host: 'process' });
    const fromThread = await sys.createActor(Listener, { host: 'worker' });
    const a = await listen(sys, fromProcess, [onThread]);
    const b = await listen(sys, fromThread, [inProcess]);
    expect(a.pid).not.toBe(process.pid);
    expect(await talk(a.port, ['to a thread'])).toEqual(expected(process.pid, ['to a thread']));
    expect(await talk(b.port, ['to a process'])).toEqual(expected(processPid, ['to a process']));
    // a thread relaying to another thread's actor, in one process
    const relay = await sys.createActor(SocketRelay, { host: 'worker', dedicated: true });
    const c = await listen(sys, fromThread, [onThread], relay);
    expect(await talk(c.port, ['thread to thread'])).toEqual(expected(process.pid, ['thread to thread']));
  });

  it('hands a listening server to a process actor, which accepts on it', async () => {
    const sys = await start('processes', 'forkserver');
    const answerer = await sys.createActor(LineAnswerer);
    const pid = await pidOf(sys, answerer);
    const server: Server = createServer(() => {
      throw new Error('the system process accepted a connection after handing its server off');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await sys.ask(answerer, { server }, DEADLINE_MS)).toEqual({ serving: true });
    expect(server.listening).toBe(false);
    for (let i = 0; i < 3; i++) expect(await talk(port, [])).toEqual([`served by ${pid}`]);
  });

  it('refuses a server that is not listening (logged, the server left as it was), and hands it off once it listens', async () => {
    const sys = await start('processes', 'forkserver');
    const answerer = await sys.createActor(LineAnswerer);
    await pidOf(sys, answerer);
    const server = createServer();
    sys.tell(answerer, { server }); // not listening
    await expect.poll(() => logs.find((l) => l.includes('must be listening')), { timeout: DEADLINE_MS }).toBeDefined();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    expect(await sys.ask(answerer, { server }, DEADLINE_MS)).toEqual({ serving: true });
  });

  it('hands a listening server to a worker thread, which accepts on it', async () => {
    const sys = await start('workers');
    const answerer = await sys.createActor(LineAnswerer, { host: 'worker' });
    const server: Server = createServer(() => {
      throw new Error('the main thread accepted a connection after handing its server off');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await sys.ask(answerer, { server }, DEADLINE_MS)).toEqual({ serving: true });
    expect(server.listening).toBe(false);
    for (let i = 0; i < 3; i++) expect((await talk(port, []))[0]).toMatch(new RegExp(`^served by ${process.pid} thread [1-9]\\d*$`));
  });

  it('refuses a socket with unsent data: dropped and logged, and the sender’s socket keeps working', async () => {
    const sys = await start('processes', 'forkserver');
    const answerer = await sys.createActor(LineAnswerer);
    await pidOf(sys, answerer);
    const { accepted, client, close } = await connectedPair();
    try {
      // The client does not read yet: most of this waits in the sender's buffer.
      client.pause();
      const data = Buffer.alloc(32 * 1024 * 1024, 0x61);
      accepted.write(data);
      sys.tell(answerer, { socket: accepted });
      await expect.poll(() => logs.find((l) => l.includes('could not be encoded') && l.includes('unsent data')), { timeout: DEADLINE_MS }).toBeDefined();
      expect(accepted.destroyed).toBe(false);
      // Everything it had written arrives, and it writes on.
      const received = receive(client, data.length, 'after\n');
      client.resume();
      accepted.write('after\n');
      const all = await received;
      expect(all.length).toBe(data.length + 6);
      expect(all.subarray(data.length).toString()).toBe('after\n');
    } finally {
      close();
    }
  });

  it('refuses a TLS socket: dropped and logged, and the TLS connection keeps working', async () => {
    const sys = await start('processes', 'forkserver');
    const answerer = await sys.createActor(LineAnswerer);
    await pidOf(sys, answerer);
    // TLS with a pre-shared key: no certificate needed.
    const psk = Buffer.alloc(32, 7);
    const tls = { ciphers: 'PSK-AES128-GCM-SHA256', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;
    const server = tlsCreateServer({ ...tls, pskCallback: () => psk });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepting = once(server, 'secureConnection') as Promise<[TLSSocket]>;
    const client = tlsConnect({ ...tls, port: (server.address() as { port: number }).port, host: '127.0.0.1', pskCallback: () => ({ psk, identity: 'test' }), checkServerIdentity: () => undefined });
    try {
      const [accepted] = await accepting;
      sys.tell(answerer, { socket: accepted });
      await expect.poll(() => logs.find((l) => l.includes('could not be encoded') && l.includes('TLS socket cannot be handed off')), { timeout: DEADLINE_MS }).toBeDefined();
      const received = receive(client, 0, 'still here\n');
      accepted.write('still here\n');
      expect((await received).toString()).toBe('still here\n');
    } finally {
      client.destroy();
      server.close();
    }
  });

  it('runs the example: each connection answered from a process of its own', async () => {
    const example = fileURLToPath(new URL('../examples/socket-handoff.js', import.meta.url));
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [example], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    const [first, ...answers] = out.trim().split('\n');
    const systemPid = Number(/^system process (\d+)/.exec(first!)![1]);
    expect(answers.map((line) => line.replace(/^process \d+ /, ''))).toEqual(['heard: one', 'heard: two', 'heard: three']);
    const pids = answers.map((line) => Number(/^process (\d+)/.exec(line)![1]));
    expect(pids).not.toContain(systemPid);
    expect(new Set(pids).size).toBe(2);
  });
});
