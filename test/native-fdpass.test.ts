// File descriptor passing (SCM_RIGHTS) through the real addon: within this
// process for the edge cases, and with a second process (fd-peer.mjs) over a
// Unix socket pair for the real thing: a file and a listening TCP socket
// cross and are used on the other side, and one comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireNative, type FdWatcher, type NativeAddon } from '../src/native.js';

const peerScript = fileURLToPath(new URL('./fixtures/native/fd-peer.mjs', import.meta.url));
const DEADLINE_MS = 10_000;
const O_CLOEXEC = 0o2000000;

const addon: NativeAddon = requireNative('fdpass');

function isCloseOnExec(fd: number): boolean {
  const flags = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  return (parseInt(flags![1]!, 8) & O_CLOEXEC) !== 0;
}

type Message = Record<string, unknown>;

/** JSON lines with descriptors over one end of a socket pair, driven by an FdWatcher. */
class FdChannel {
  private text = '';
  private fds: number[] = [];
  private readonly inbox: Array<{ message: Message; fds: number[] }> = [];
  private waiter: (() => void) | null = null;
  private readonly watcher: FdWatcher;

  constructor(readonly fd: number) {
    this.watcher = new addon.FdWatcher(fd, () => this.drain());
    this.watcher.start(addon.FdWatcher.READABLE);
  }

  private drain(): void {
    for (;;) {
      const got = addon.recvFds(this.fd, 65536, 8);
      if (got === null) break;
      if (got.data.byteLength === 0 && got.fds.length === 0) {
        this.watcher.stop(); // end of stream stays readable: stop or spin
        break;
      }
      this.fds.push(...got.fds);
      this.text += Buffer.from(got.data).toString('utf8');
      let newline: number;
      while ((newline = this.text.indexOf('\n')) >= 0) {
        this.inbox.push({ message: JSON.parse(this.text.slice(0, newline)) as Message, fds: this.fds });
        this.text = this.text.slice(newline + 1);
        this.fds = [];
      }
    }
    this.waiter?.();
  }

  send(message: Message, fds: number[] = []): void {
    const data = Buffer.from(`${JSON.stringify(message)}\n`);
    expect(addon.sendFds(this.fd, data, fds)).toBe(data.byteLength);
  }

  async next(): Promise<{ message: Message; fds: number[] }> {
    const deadline = Date.now() + DEADLINE_MS;
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the peer');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DEADLINE_MS);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = null;
    }
    return this.inbox.shift()!;
  }

  async request(message: Message, fds: number[] = []): Promise<{ message: Message; fds: number[] }> {
    this.send(message, fds);
    return this.next();
  }

  close(): void {
    this.watcher.close();
    fs.closeSync(this.fd);
  }
}

describe('fd passing within one process', () => {
  const open: number[] = [];
  const pair = (): [number, number] => {
    const fds = addon.socketPair();
    open.push(...fds);
    return fds;
  };
  afterEach(() => {
    for (const fd of open.splice(0)) {
      try {
        fs.closeSync(fd);
      } catch {
        // closed by the test itself
      }
    }
  });

  it('reports would-block as null / -1 instead of throwing', () => {
    const [a, b] = pair();
    expect(addon.recvFds(a, 1024, 4)).toBeNull();
    const block = new Uint8Array(65536);
    let sent = 0;
    let result = 0;
    for (let i = 0; i < 10_000 && result >= 0; i++) {
      result = addon.sendFds(a, block, []);
      if (result > 0) sent += result;
    }
    expect(result).toBe(-1);
    expect(sent).toBeGreaterThan(0);
    let received = 0;
    for (let got = addon.recvFds(b, 65536, 0); got !== null; got = addon.recvFds(b, 65536, 0)) {
      received += got.data.byteLength;
    }
    expect(received).toBe(sent);
  });

  it('sets the send buffer of a socket pair, and says what it was (the kernel doubles what is asked, up to twice wmem_max)', () => {
    const wmemMax = Number(fs.readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const wmemDefault = Number(fs.readFileSync('/proc/sys/net/core/wmem_default', 'utf8'));
    const [a] = pair();
    const fill = (): number => {
      const block = new Uint8Array(65536);
      let sent = 0;
      for (let result = 0; result >= 0; ) {
        result = addon.sendFds(a, block, []);
        if (result > 0) sent += result;
      }
      return sent;
    };
    expect(addon.setSendBuffer(a, 0)).toBe(wmemDefault); // 0 only reads it
    expect(addon.setSendBuffer(a, 2 * 1024 * 1024)).toBe(wmemDefault);
    const wide = Math.min(4 * 1024 * 1024, 2 * wmemMax);
    expect(addon.setSendBuffer(a, 0)).toBe(wide);
    // Each 64 KiB write is charged with its bookkeeping: what fits is a little under the buffer.
    const sent = fill();
    expect(sent).toBeGreaterThan(wide * 0.75);
    expect(sent).toBeGreaterThan(wmemDefault);
    expect(addon.setSendBuffer(a, wide / 2)).toBe(wide);
    expect(addon.setSendBuffer(a, wmemDefault / 2)).toBe(wide);
    expect(addon.setSendBuffer(a, 0)).toBe(wmemDefault);
    expect(() => addon.setSendBuffer(a, -1)).toThrow(RangeError);
  });

  it('passes a descriptor that arrives close-on-exec and usable', () => {
    const [a, b] = pair();
    const file = path.join(os.tmpdir(), `thespis-fdpass-${process.pid}.txt`);
    fs.writeFileSync(file, 'through the socket');
    const fd = fs.openSync(file, 'r');
    open.push(fd);
    fs.unlinkSync(file);
    expect(addon.sendFds(a, Buffer.from('x'), [fd])).toBe(1);
    const got = addon.recvFds(b, 16, 4)!;
    expect(Buffer.from(got.data).toString()).toBe('x');
    expect(got.fds).toHaveLength(1);
    expect(got.truncated).toBe(false);
    const copy = got.fds[0]!;
    open.push(copy);
    expect(copy).not.toBe(fd);
    expect(isCloseOnExec(copy)).toBe(true);
    expect(fs.readFileSync(copy, 'utf8')).toBe('through the socket');
  });

  it('closes descriptors beyond maxFds and says so', () => {
    const [a, b] = pair();
    const extra = pair(); // any descriptors will do
    const before = fs.readdirSync('/proc/self/fd').length;
    addon.sendFds(a, Buffer.from('y'), [extra[0], extra[1], extra[0]]);
    const got = addon.recvFds(b, 16, 1)!;
    expect(got.fds).toHaveLength(1);
    expect(got.truncated).toBe(true);
    open.push(got.fds[0]!);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before + 1);
  });

  it('reports end of stream as empty data, and a broken pipe as EPIPE', () => {
    const [a, b] = pair();
    fs.closeSync(a);
    const eof = addon.recvFds(b, 16, 4)!;
    expect(eof.data.byteLength).toBe(0);
    expect(eof.fds).toEqual([]);
    expect(() => addon.sendFds(b, Buffer.from('z'), [])).toThrow(expect.objectContaining({ code: 'EPIPE' }));
  });

  it('refuses bad arguments', () => {
    const [a] = pair();
    expect(() => addon.sendFds(a, new Uint8Array(0), [a])).toThrow(RangeError);
    expect(() => addon.sendFds(a, Buffer.from('x'), [-1])).toThrow(TypeError);
    expect(() => addon.recvFds(a, 0, 1)).toThrow(RangeError);
    const file = fs.openSync(peerScript, 'r');
    open.push(file);
    expect(() => new addon.FdWatcher(file, () => {})).toThrow(expect.objectContaining({ code: 'EPERM' }));
  });

  it('FdWatcher reports writability of a socket', async () => {
    const [a] = pair();
    const events = await new Promise<number>((resolve) => {
      const watcher = new addon.FdWatcher(a, (status, ready) => {
        watcher.close();
        resolve(status === 0 ? ready : status);
      });
      watcher.start(addon.FdWatcher.WRITABLE);
    });
    expect(events & addon.FdWatcher.WRITABLE).toBe(addon.FdWatcher.WRITABLE);
  });
});

describe('fd passing between two processes', () => {
  let dir: string;
  let peer: ChildProcess;
  let channel: FdChannel;
  let server: net.Server | null = null;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thespis-fdpass-'));
    const [mine, theirs] = addon.socketPair();
    peer = spawn(process.execPath, [peerScript], { stdio: ['ignore', 'inherit', 'inherit', theirs] });
    fs.closeSync(theirs);
    channel = new FdChannel(mine);
  });

  afterAll(async () => {
    server?.close();
    if (peer.exitCode === null && peer.signalCode === null) {
      const exited = once(peer, 'exit');
      channel.close(); // end of stream: the peer closes up and exits
      const timer = setTimeout(() => peer.kill('SIGKILL'), DEADLINE_MS);
      await exited;
      clearTimeout(timer);
    } else {
      channel.close();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends a file descriptor the peer reads from', async () => {
    const file = path.join(dir, 'a.txt');
    fs.writeFileSync(file, 'content for the peer');
    const fd = fs.openSync(file, 'r');
    const { message } = await channel.request({ cmd: 'read-file' }, [fd]);
    fs.closeSync(fd);
    expect(message).toEqual({ content: 'content for the peer', cloexec: true });
  });

  it('sends a listening TCP socket the peer then serves on', async () => {
    server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    // net.Server has no public fd accessor; the handle's fd is what travels.
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    expect(fd).toBeGreaterThan(2);
    const { message } = await channel.request({ cmd: 'serve' }, [fd]);
    expect(message).toEqual({ listening: true });
    server.close(); // stop accepting here: every connection now lands in the peer
    server = null;

    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(greeting).toBe(`hello from ${peer.pid}`);
  });

  it('closes on the receiving side the descriptors it does not accept', async () => {
    await channel.request({ cmd: 'set-max', maxFds: 1 });
    const baseline = (await channel.request({ cmd: 'open-fds' })).message.open as number;
    const files = [0, 1, 2].map(() => fs.openSync(peerScript, 'r'));
    const { message } = await channel.request({ cmd: 'count' }, files);
    for (const fd of files) fs.closeSync(fd);
    expect(message).toEqual({ received: 1, truncated: true, open: baseline + 1 });
    await channel.request({ cmd: 'set-max', maxFds: 8 });
  });

  it('receives a descriptor the peer opened', async () => {
    const file = path.join(dir, 'b.txt');
    fs.writeFileSync(file, 'opened by the peer');
    const { message, fds } = await channel.request({ cmd: 'send-back', path: file });
    expect(message).toEqual({ sent: true });
    expect(fds).toHaveLength(1);
    expect(fs.readFileSync(fds[0]!, 'utf8')).toBe('opened by the peer');
    fs.closeSync(fds[0]!);
  });
});
