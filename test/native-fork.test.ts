// fork() and reaping through the real addon, in a real zygote process:
// children run timers, fs and TCP after the fork, report over a Unix socket,
// leave with exitNow; the zygote reaps them and reports codes and signals.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../src/native.js';

const zygoteScript = fileURLToPath(new URL('./fixtures/native/zygote.mjs', import.meta.url));
const DEADLINE_MS = 10_000;

type Message = Record<string, unknown>;

/** Collects JSON lines and lets a test wait for the first that matches. */
class Inbox {
  readonly messages: Message[] = [];
  private waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];

  add(message: Message): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(message)) return true;
      w.resolve(message);
      return false;
    });
  }

  feed(stream: Readable): void {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') this.add(JSON.parse(line) as Message);
      }
    });
  }

  waitFor(match: (m: Message) => boolean, what: string): Promise<Message> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), DEADLINE_MS);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

class Zygote {
  readonly events = new Inbox();
  readonly process: ChildProcessByStdio<Writable, Readable, Readable>;
  stderr = '';
  private static nextId = 1; // unique across zygotes: reports share one inbox

  constructor() {
    this.process = spawn(process.execPath, ['--single-threaded', '--expose-gc', zygoteScript], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.events.feed(this.process.stdout);
    this.process.stderr.setEncoding('utf8');
    this.process.stderr.on('data', (text: string) => (this.stderr += text));
  }

  get pid(): number {
    return this.process.pid!;
  }

  send(command: Message): void {
    this.process.stdin.write(`${JSON.stringify(command)}\n`);
  }

  async fork(command: Message): Promise<{ id: number; pid: number }> {
    const id = Zygote.nextId++;
    this.send({ cmd: 'fork', id, ...command });
    const forked = await this.events.waitFor((m) => m.event === 'forked' && m.id === id, `fork ${id}`);
    return { id, pid: forked.pid as number };
  }

  exitOf(pid: number): Promise<Message> {
    return this.events.waitFor((m) => m.event === 'exit' && m.pid === pid, `exit of ${pid}`);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = once(this.process, 'exit');
    this.process.stdin.end();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  }
}

/** State letter of a process from /proc, or null when it no longer exists. */
function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

/** Every process whose parent is `ppid`, with its state. */
function childrenOf(ppid: number): Array<{ pid: number; state: string }> {
  const found: Array<{ pid: number; state: string }> = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) found.push({ pid: Number(entry), state: fields[0]! });
    } catch {
      // gone between readdir and read
    }
  }
  return found;
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('native fork and reaping', () => {
  let dir: string;
  let file: string;
  let reportPath: string;
  let reportServer: net.Server;
  let tcpServer: net.Server;
  let tcpPort: number;
  const reports = new Inbox();
  const zygotes: Zygote[] = [];
  const forkedPids: number[] = [];

  beforeAll(async () => {
    expect(native, 'the addon must be built for these tests').not.toBeNull();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'thespis-fork-'));
    file = path.join(dir, 'content.txt');
    fs.writeFileSync(file, 'read after fork');
    reportPath = path.join(dir, 'report.sock');
    reportServer = net.createServer((socket) => {
      socket.on('error', () => {}); // a child killed mid-connection resets it
      reports.feed(socket);
    });
    reportServer.listen(reportPath);
    tcpServer = net.createServer((socket) => socket.end('pong'));
    tcpServer.listen(0, '127.0.0.1');
    await Promise.all([once(reportServer, 'listening'), once(tcpServer, 'listening')]);
    tcpPort = (tcpServer.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const pid of forkedPids) {
      if (processState(pid) !== null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(zygotes.map((z) => z.stop()));
    reportServer?.close();
    tcpServer?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function startZygote(): Zygote {
    const zygote = new Zygote();
    zygotes.push(zygote);
    return zygote;
  }

  it('forks children that run timers, fs, TCP and GC, and reaps every way they end', async () => {
    const zygote = startZygote();
    const work = [0, 3, 42];
    const workers = await Promise.all(
      work.map((code) => zygote.fork({ mode: 'work', code, file, tcpPort, reportPath })),
    );
    const hanging = await zygote.fork({ mode: 'hang', reportPath });
    const selfKilled = await zygote.fork({ mode: 'kill-self' });
    forkedPids.push(...workers.map((w) => w.pid), hanging.pid, selfKilled.pid);
    expect(new Set(forkedPids).size).toBe(forkedPids.length);

    for (const [i, worker] of workers.entries()) {
      const report = await reports.waitFor((m) => m.id === worker.id, `report of child ${worker.id}`);
      expect(report).toMatchObject({
        pid: worker.pid,
        getpid: worker.pid,
        ppid: zygote.pid,
        getppid: zygote.pid,
        file: 'read after fork',
        tcp: 'pong',
        kept: 2_000_000,
      });
      expect(report.timerMs as number).toBeGreaterThanOrEqual(15);
      expect(await zygote.exitOf(worker.pid)).toEqual({ event: 'exit', pid: worker.pid, code: work[i], signal: null });
    }

    await reports.waitFor((m) => m.id === hanging.id && m.ready === true, 'the hanging child');
    expect(processState(hanging.pid)).toMatch(/^[RS]$/);
    process.kill(hanging.pid, 'SIGKILL');
    expect(await zygote.exitOf(hanging.pid)).toEqual({ event: 'exit', pid: hanging.pid, code: null, signal: 'SIGKILL' });
    expect(await zygote.exitOf(selfKilled.pid)).toEqual({
      event: 'exit',
      pid: selfKilled.pid,
      code: null,
      signal: 'SIGTERM',
    });

    // Reaped, not zombies: none of them exists any more, and the zygote has no children left.
    for (const pid of forkedPids) expect(processState(pid)).toBeNull();
    expect(childrenOf(zygote.pid)).toEqual([]);
    zygote.send({ cmd: 'children' });
    expect(await zygote.events.waitFor((m) => m.event === 'children', 'children')).toMatchObject({ pids: [] });
  });

  it("makes Node's own exits safe in a child, and lets a child fork and reap its own", async () => {
    const zygote = startZygote();
    const exiting = await zygote.fork({ mode: 'process-exit', code: 5 });
    const throwing = await zygote.fork({ mode: 'throw' });
    const nested = await zygote.fork({ mode: 'nested', reportPath });
    forkedPids.push(exiting.pid, throwing.pid, nested.pid);
    // Without the guard these end in SIGSEGV inside Node's teardown.
    expect(await zygote.exitOf(exiting.pid)).toMatchObject({ code: 5, signal: null });
    expect(await zygote.exitOf(throwing.pid)).toMatchObject({ code: 1, signal: null });
    await waitUntil(() => zygote.stderr.includes(`Uncaught Error: child ${throwing.pid} throws`), 'the error report');

    const report = await reports.waitFor((m) => m.id === nested.id, 'the nested report');
    expect(report.grandchild).toMatchObject({ code: 11, signal: null });
    expect(report.left).toEqual([]);
    expect(await zygote.exitOf(nested.pid)).toMatchObject({ code: 0, signal: null });
    // The grandchild's exit went to its own parent only.
    const grandchildPid = (report.grandchild as { pid: number }).pid;
    expect(zygote.events.messages.some((m) => m.event === 'exit' && m.pid === grandchildPid)).toBe(false);
    expect(childrenOf(zygote.pid)).toEqual([]);
  });

  it('leaves child_process working in the zygote (no waitpid(-1))', async () => {
    const zygote = startZygote();
    const child = await zygote.fork({ mode: 'hang', reportPath });
    forkedPids.push(child.pid);
    await reports.waitFor((m) => m.id === child.id && m.ready === true, 'the hanging child');
    // A SIGCHLD for a spawned child wakes our watcher too; it must not take that child's status.
    zygote.send({ cmd: 'spawn' });
    expect(await zygote.events.waitFor((m) => m.event === 'spawned', 'spawned')).toMatchObject({ code: 5 });
    expect(zygote.events.messages.some((m) => m.event === 'exit')).toBe(false);
    process.kill(child.pid, 'SIGKILL');
    expect(await zygote.exitOf(child.pid)).toMatchObject({ signal: 'SIGKILL' });
    expect(childrenOf(zygote.pid)).toEqual([]);
  });

  it('kills a child with parentDeathSignal when the zygote dies', async () => {
    const zygote = startZygote();
    const child = await zygote.fork({ mode: 'hang', reportPath, parentDeathSignal: os.constants.signals.SIGKILL });
    forkedPids.push(child.pid);
    await reports.waitFor((m) => m.id === child.id && m.ready === true, 'the hanging child');
    const exited = once(zygote.process, 'exit');
    zygote.process.kill('SIGKILL');
    await exited;
    // The orphan is killed and then reaped by init.
    await waitUntil(() => processState(child.pid) === null, `child ${child.pid} to be gone`);
  });
});
