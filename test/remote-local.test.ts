// Remote hosts started with the `local` method (a child `node` booted over
// its stdio): calls, module forwarding, actors, routing through hosts, and
// Mitogen's failure matrix. ssh, sudo and su are in remote-methods.test.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ActorSystem,
  DeadActorError,
  ModuleRefusedError,
  RemoteBootError,
  RemoteHostGoneError,
  type LogRecord,
  type RemoteHost,
} from '../dist/index.js';
import { eventually } from './conformance/bases.js';
import { processes } from './proc.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/remote/', import.meta.url));
const TASKS = `${FIXTURES}tasks.js`;
const BIN = `${FIXTURES}bin/`;

let system: ActorSystem | undefined;
let logs: LogRecord[] = [];
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function start(base: 'inline' | 'workers' = 'inline'): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base, workers: 1, logLevel: 'debug', logger: (r) => logs.push(r) });
  return system;
}

function connect(s: ActorSystem, extra: Record<string, unknown> = {}): Promise<RemoteHost> {
  return s.connectHost({ method: 'local', serve: [FIXTURES], ...extra });
}

const alive = (pid: number): boolean => processes().some((p) => p.pid === pid && p.state !== 'Z');

describe('calls and module forwarding', () => {
  it('runs a builtin function and a forwarded module in another process', async () => {
    const s = await start();
    const host = await connect(s);
    expect(typeof (await host.call('node:os#hostname'))).toBe('string');
    const who = (await host.call(`${TASKS}#whoami`, 5)) as { pid: number; ppid: number; extra: number };
    expect(who.pid).not.toBe(process.pid);
    expect(who.pid).toBe(host.status().pid);
    expect(who.ppid).toBe(process.pid);
    expect(who.extra).toBe(5);
  });

  it('forwards a module and the modules it imports in one round trip, cached for later calls', async () => {
    const s = await start();
    const host = await connect(s);
    expect(await host.call(`${TASKS}#twice`, 21)).toBe(42); // tasks.js imports helpers/math.js and thespis
    expect(host.status().moduleRequests).toBe(1);
    expect(await host.call(`file://${TASKS}#twice`, 2)).toBe(4);
    expect(host.status().moduleRequests).toBe(1);
  });

  it('rejects with the error a call throws', async () => {
    const s = await start();
    const host = await connect(s);
    const error = await host.call(`${TASKS}#fails`, 'boom').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('RangeError');
    expect((error as Error).message).toBe('boom');
    expect(await host.call(`${TASKS}#twice`, 1)).toBe(2); // the host carries on
  });

  it('refuses a module outside the serve roots, naming its path', async () => {
    const s = await start();
    const host = await connect(s, { serve: [`${FIXTURES}helpers`] });
    const outside = fileURLToPath(new URL('./fixtures/basic-actors.js', import.meta.url));
    const error = await host.call(`${outside}#anything`).catch((e: Error) => e);
    expect((error as Error).message).toContain(outside);
    expect((error as Error).message).toMatch(/outside the served roots/);
    const hostOwn = await connect(s);
    const nested = await hostOwn.call(`${TASKS}#importOutside`, outside).catch((e: Error) => e);
    expect((nested as Error).message).toContain(outside);
  });

  it('ModuleRefusedError is what the parent raises', () => {
    expect(new ModuleRefusedError('x').name).toBe('ModuleRefusedError');
  });
});

describe('actors on a host', () => {
  it('creates an actor there; messages, asks and logs (tagged with the host) work', async () => {
    const s = await start();
    const host = await connect(s, { name: 'box1' });
    const { Echo } = await import('./fixtures/remote/tasks.js');
    const echo = await s.createActor(Echo, { host });
    expect(echo.kernel).toBe(host.kernelId);
    expect(await s.ask(echo, 'pid', 5000)).toBe(host.status().pid);
    const status = await s.status();
    expect(status.kernels.find((k) => k.kernel === host.kernelId)).toMatchObject({ actors: 1 });
    expect(status.hosts).toEqual([expect.objectContaining({ name: 'box1', connected: true, kernelId: host.kernelId })]);
    expect(await s.ask(echo, { deep: [1, new Map([[1, 'x']])] }, 5000)).toEqual({ deep: [1, new Map([[1, 'x']])] });
    expect(await s.ask(echo, 'log', 5000)).toBe('logged');
    const record = await eventually(() => logs.find((r) => r.message === 'hello from a remote actor'));
    expect(record.host).toBe('box1');
  });

  it('a worker-thread actor and a host actor talk through the system', async () => {
    const s = await start('workers');
    const host = await connect(s);
    const { Echo, Relay } = await import('./fixtures/remote/tasks.js');
    const remote = await s.createActor(Echo, { host });
    const relay = await s.createActor(Relay); // on the pool thread
    expect(relay.kernel).not.toBe(s.address.kernel);
    expect(await s.ask(relay, { to: remote, body: 'pid' }, 5000)).toMatchObject({ answer: host.status().pid, relayPid: process.pid });
  });

  it('when the host dies its actors are reported exited and asks reject with DeadActorError', async () => {
    const s = await start();
    const host = await connect(s);
    const { HostSupervisor } = await import('./fixtures/remote/tasks.js');
    const supervisor = await s.createActor(HostSupervisor);
    const child = await s.ask(supervisor, { host }, 5000);
    expect(await s.ask(child, 'hi', 5000)).toBe('hi');
    const pending = s.ask(child, 'exit', 5000); // the host process exits while handling it
    await expect(pending).rejects.toBeInstanceOf(DeadActorError);
    expect(await s.listen(5000)).toMatchObject({ exited: child });
    await eventually(() => !host.connected || undefined);
    expect(host.status().reason).toMatch(/link/);
    const listed = (await s.status()).hosts.find((h) => h.kernelId === host.kernelId);
    expect(listed).toMatchObject({ connected: false, reason: host.status().reason });
    await expect(host.call('node:os#hostname')).rejects.toBeInstanceOf(RemoteHostGoneError);
    await expect(s.ask(child, 'hi', 5000)).rejects.toBeInstanceOf(DeadActorError);
  });
});

describe('routing through hosts (via)', () => {
  it('a 10-deep via chain: each host is a child of the one before; closing the first ends them all', async () => {
    const s = await start();
    const chain: RemoteHost[] = [await connect(s)];
    for (let i = 1; i < 10; i++) chain.push(await connect(s, { via: chain[i - 1] }));
    const pids = (await Promise.all(chain.map((h) => h.call(`${TASKS}#whoami`)))) as Array<{ pid: number; ppid: number }>;
    expect(pids[0]!.ppid).toBe(process.pid);
    for (let i = 1; i < 10; i++) expect(pids[i]!.ppid).toBe(pids[i - 1]!.pid);
    const { Echo } = await import('./fixtures/remote/tasks.js');
    const deep = await s.createActor(Echo, { host: chain[9]! });
    expect(await s.ask(deep, 'pid', 5000)).toBe(pids[9]!.pid);
    await chain[0]!.close();
    for (const h of chain) expect(h.connected).toBe(false);
    await eventually(() => (pids.every((p) => !alive(p.pid)) ? true : undefined));
    await expect(s.ask(deep, 'pid', 5000)).rejects.toBeInstanceOf(DeadActorError);
  });

  it('when an intermediary dies, every host behind it is reported gone', async () => {
    const s = await start();
    const a = await connect(s);
    const b = await connect(s, { via: a });
    const c = await connect(s, { via: b });
    const { Echo } = await import('./fixtures/remote/tasks.js');
    const onC = await s.createActor(Echo, { host: c });
    const cPid = ((await c.call(`${TASKS}#whoami`)) as { pid: number }).pid;
    expect(await b.call(`${TASKS}#exitSoon`, 9)).toBe('leaving');
    await eventually(() => (!b.connected && !c.connected ? true : undefined));
    expect(a.connected).toBe(true);
    expect(c.status().reason).toBeDefined();
    await expect(s.ask(onC, 'pid', 5000)).rejects.toBeInstanceOf(DeadActorError);
    await eventually(() => (!alive(cPid) ? true : undefined));
    expect(await a.call(`${TASKS}#twice`, 4)).toBe(8);
  });
});

describe("Mitogen's failure matrix", () => {
  it('junk and EOF during boot: the error shows what it printed', async () => {
    const s = await start();
    const error = await connect(s, { nodePath: `${BIN}junk-then-exit.sh` }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/exited with code 3/);
    expect((error as Error).message).toContain('Welcome to junkhost');
    expect((error as Error).message).toContain('some junk on stderr');
  });

  it('a banner with a fake marker before the runtime is ignored', async () => {
    const s = await start();
    const host = await connect(s, { nodePath: `${BIN}banner-node.sh` });
    expect(await host.call(`${TASKS}#twice`, 3)).toBe(6);
  });

  it('a host that answers garbage times out, and is killed and reaped', async () => {
    const s = await start();
    const before = new Set(processes().map((p) => p.pid));
    const error = await connect(s, { nodePath: `${BIN}garbage.sh`, connectTimeoutMs: 800 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/did not boot within 800 ms/);
    expect((error as Error).message).toContain('garbage instead of a runtime');
    const mine = processes().filter((p) => p.ppid === process.pid && !before.has(p.pid));
    expect(mine).toEqual([]);
  });

  it('a timeout kills and reaps a host that never starts', async () => {
    const s = await start();
    const error = await connect(s, { nodePath: `${BIN}hang.sh`, connectTimeoutMs: 300 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/did not boot within 300 ms/);
    expect(processes().filter((p) => p.ppid === process.pid && p.state === 'Z')).toEqual([]);
    expect(processes().some((p) => p.ppid === process.pid)).toBe(false);
  });

  it('node missing', async () => {
    const s = await start();
    const error = await connect(s, { nodePath: '/nonexistent/node' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/node was not found/);
  });

  it('a host claiming a source that is not behind it loses its link', async () => {
    const s = await start();
    const host = await connect(s);
    const other = await connect(s);
    const forged = host.call(`${TASKS}#forge`, s.address.kernel, other.kernelId).catch((e: Error) => e);
    expect(await forged).toBeInstanceOf(RemoteHostGoneError);
    expect(logs.some((r) => r.level === 'error' && /claiming source .*not behind it/.test(r.message))).toBe(true);
    expect(host.connected).toBe(false);
    expect(other.connected).toBe(true);
    expect(await other.call(`${TASKS}#twice`, 5)).toBe(10);
  });

  it('a host behind another claiming an id beside it is refused by its intermediary', async () => {
    const s = await start();
    const a = await connect(s);
    const b = await connect(s, { via: a });
    const c = await connect(s, { via: a });
    const forged = b.call(`${TASKS}#forge`, s.address.kernel, c.kernelId).catch((e: Error) => e);
    expect(await forged).toBeInstanceOf(RemoteHostGoneError);
    expect(c.connected).toBe(true);
    expect(a.connected).toBe(true);
    expect(await c.call(`${TASKS}#twice`, 2)).toBe(4);
  });

  it('an oversize frame closes that host link only', async () => {
    const s = await start();
    const host = await connect(s);
    const other = await connect(s);
    expect(await host.call(`${TASKS}#oversize`).catch((e: Error) => e)).toBeInstanceOf(RemoteHostGoneError);
    expect(host.status().reason).toMatch(/exceeds the limit/);
    expect(await other.call(`${TASKS}#twice`, 5)).toBe(10);
  });
});

describe('cleanup', () => {
  it('close() ends the host process and reaps it; shutdown ends every host', async () => {
    const s = await start();
    const host = await connect(s);
    const pid = host.status().pid!;
    expect(alive(pid)).toBe(true);
    await host.close();
    expect(alive(pid)).toBe(false);
    expect(host.connected).toBe(false);
    const a = await connect(s);
    const b = await connect(s, { via: a });
    const bPid = ((await b.call(`${TASKS}#whoami`)) as { pid: number }).pid;
    await s.shutdown();
    system = undefined;
    expect(alive(a.status().pid!)).toBe(false);
    await eventually(() => (!alive(bPid) ? true : undefined));
  });

  it('a host whose link ends exits: the system process killed with SIGKILL leaves no host behind', async () => {
    const script = fileURLToPath(new URL('./fixtures/remote/orphan-host.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, THESPIS_NO_NATIVE: '1' } });
    const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    const pids = JSON.parse(line) as number[];
    expect(pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await eventually(() => (pids.every((p) => !alive(p)) ? true : undefined));
  });
});

describe('example', () => {
  it('examples/remote-hosts.js runs: a host through another, an actor, a call, a file', async () => {
    const example = fileURLToPath(new URL('../examples/remote-hosts.js', import.meta.url));
    const child = spawn(process.execPath, [example], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).toMatch(/hello from pid \d+ \(parent \d+\)/);
    expect(out).toContain("mode: '640'");
    expect(out).toContain('build 42');
    expect(out).toContain('inner connected after box.close(): false');
    expect(err).toMatch(/\[thespis info\] inner .*probed/);
  });
});

describe('boot', () => {
  it('the first stage is a command line under 1 KiB', async () => {
    const { methodCommand } = await import('../dist/remote/methods.js');
    const local = methodCommand({ method: 'local' }, 'f'.repeat(24));
    expect(Buffer.byteLength(local.argv.slice(1).join(' '))).toBeLessThan(1024);
    const ssh = methodCommand({ method: 'ssh', hostname: 'h' }, 'f'.repeat(24));
    expect(Buffer.byteLength(ssh.argv.at(-1)!)).toBeLessThan(1024);
  });

  it('1 MiB of junk before the runtime runs is skipped', async () => {
    const s = await start();
    const host = await connect(s, { nodePath: `${BIN}junk-1mib-node.sh` });
    expect(await host.call(`${TASKS}#twice`, 8)).toBe(16);
  });

  it('a system shut down while a host boots leaves no process behind', async () => {
    const s = await start();
    const before = new Set(processes().map((p) => p.pid));
    const connecting = connect(s, { nodePath: `${BIN}hang.sh`, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    await eventually(() => (processes().some((p) => p.ppid === process.pid && !before.has(p.pid)) ? true : undefined));
    await s.shutdown();
    system = undefined;
    expect(await connecting).toBeInstanceOf(Error);
    expect(processes().filter((p) => p.ppid === process.pid && !before.has(p.pid))).toEqual([]);
  });
});
