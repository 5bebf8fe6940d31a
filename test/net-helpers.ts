// Helpers for the network tests: systems in this process and in child
// processes, and a TCP proxy that can reset or stall the connections it carries.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { ActorSystem, type ActorSystemOptions } from '../dist/index.js';

export interface SystemProcess {
  adminAddress: string;
  pid: number;
  systemId: string;
  child: ChildProcess;
  stderr: string[];
  exited: Promise<number | null>;
  /** Run a command in that process (fixtures/net/system-proc.mjs) and wait for its answer. */
  command(op: Record<string, unknown>): Promise<Record<string, unknown>>;
}

const SYSTEM_PROC = new URL('./fixtures/net/system-proc.mjs', import.meta.url).pathname;
const running = new Set<ChildProcess>();

/**
 * A system in a child process (inside network namespace `netns`, if given);
 * ended by `stopAll` (or kill it yourself).
 */
export async function spawnSystem(options: Omit<ActorSystemOptions, 'logger'>, netns?: string): Promise<SystemProcess> {
  const argv = [SYSTEM_PROC, JSON.stringify(options)];
  const child = netns === undefined
    ? spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (running.delete(child), resolve(code))));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const lines = createInterface({ input: child.stdout! });
  const waiting = new Map<number, (answer: Record<string, unknown>) => void>();
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`system process exited (${code}) before it started: ${stderr.join('\n')}`)));
  });
  lines.on('line', (line) => {
    const answer = JSON.parse(line) as Record<string, unknown>;
    waiting.get(answer.id as number)?.(answer);
    waiting.delete(answer.id as number);
  });
  let seq = 0;
  const command = (op: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.stdin!.write(JSON.stringify({ id, ...op }) + '\n');
    });
  const info = JSON.parse(first) as { adminAddress: string; pid: number; systemId: string };
  return { ...info, child, stderr, exited, command };
}

/** End every system process still running (gracefully, then by force). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      if (child.signalCode === 'SIGSTOP' || child.killed) child.kill('SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** Systems started in this process, shut down by `shutdownAll`. */
const systems = new Set<ActorSystem>();

export async function startSystem(options: ActorSystemOptions, logs?: string[]): Promise<ActorSystem> {
  const system = await ActorSystem.start({
    base: 'inline',
    logger: (record) => logs?.push(`${record.level} ${record.message}${record.detail !== undefined ? ' ' + String(record.detail) : ''}`),
    ...options,
  });
  systems.add(system);
  return system;
}

export async function shutdownAll(): Promise<void> {
  await Promise.all([...systems].map((s) => s.shutdown()));
  systems.clear();
}

/** Resolves when `system`'s convention lists `count` members (itself included). */
export async function members(system: ActorSystem, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await system.status();
    if (status.convention.length === count) return;
    if (Date.now() > deadline) throw new Error(`${system.adminAddress} has ${status.convention.length} members, not ${count}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A TCP proxy in front of `target`. `reset()` kills every connection it
 * carries at once (an RST to both ends); `stall()` drops everything without
 * closing (a partition), `heal()` forwards again.
 */
export class Proxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private stalled = false;
  address = '';
  connections = 0;

  constructor(private readonly target: string) {
    this.server = createServer((inbound) => this.accept(inbound));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.address = `127.0.0.1:${port}`;
    return this.address;
  }

  /** Connections carried now. */
  get live(): number {
    return this.pairs.size;
  }

  /** Reset every connection carried now; returns how many. */
  reset(): number {
    const cut = this.pairs.size;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
    return cut;
  }

  /** Stop forwarding (what comes meanwhile is lost) without closing anything: a partition. */
  stall(): void {
    this.stalled = true;
  }

  heal(): void {
    this.stalled = false;
  }

  async close(): Promise<void> {
    void this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(inbound: Socket): void {
    this.connections++;
    const colon = this.target.lastIndexOf(':');
    const outbound = connect(Number(this.target.slice(colon + 1)), this.target.slice(0, colon));
    const pair: [Socket, Socket] = [inbound, outbound];
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', end).on('close', end);
    outbound.on('error', end).on('close', end);
    // Forwarded by hand: a stalled proxy drops what comes, like a cut cable.
    inbound.on('data', (chunk: Buffer) => void (this.stalled || outbound.write(chunk)));
    outbound.on('data', (chunk: Buffer) => void (this.stalled || inbound.write(chunk)));
  }
}
