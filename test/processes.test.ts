// Process actors beyond the conformance suite: crashes, kills, zombies,
// orphans, shutdown, and the path without the addon.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorExitRequest, ActorSystem, DeadActorError, nativeStatus, type Startup } from '../dist/index.js';
import { DeadLetterCollector } from './fixtures/lifecycle-actors.js';
import { PidProbe, ProcessSupervisor } from './fixtures/process-actors.js';
import { eventually } from './conformance/bases.js';
import { alive, processes, startTime, withEnv, type ProcInfo } from './proc.js';

const STARTUPS: Startup[] = nativeStatus().available ? ['spawn', 'fork', 'forkserver'] : ['spawn'];

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(async () => {
  await system?.shutdown();
  delete process.env[TAG];
});

/**
 * Set in this process's environment before a system starts, so every process
 * it starts (zygotes, spares, process kernels, and anything they start) carries
 * it: found with withEnv wherever it ends up, re-parented out of our tree too.
 */
const TAG = 'THESPIS_TEST_RUN';
function tagProcesses(): string {
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  process.env[TAG] = tag;
  return tag;
}

async function start(): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base: 'workers', workers: 1, logger: (r) => logs.push(`${r.level} ${r.message}`) });
  return system;
}

/** The processes below `root` (children, grandchildren, ...). */
function descendants(root: number, all = processes()): ProcInfo[] {
  const found: ProcInfo[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found;
}

describe.each(STARTUPS)('process actors started by %s', (startup) => {
  it('run in a process of their own, a child of the system or of its zygote', async () => {
    const sys = await start();
    const probe = await sys.createActor(PidProbe, { host: 'process', startup });
    const { pid, ppid } = (await sys.ask(probe, 'pid', 10_000)) as { pid: number; ppid: number };
    expect(pid).not.toBe(process.pid);
    if (startup === 'spawn') expect(ppid).toBe(process.pid);
    else expect(descendants(process.pid).some((p) => p.pid === ppid)).toBe(true);
    expect((await sys.status()).processes).toBe(2);
  });

  it('report a process that exits to the parent, reject asks, and dead-letter later mail', async () => {
    const sys = await start();
    const collector = await sys.createActor(DeadLetterCollector);
    await sys.ask(collector, 'start', 5000);
    const supervisor = await sys.createActor(ProcessSupervisor);
    const child = (await sys.ask(supervisor, { spawn: startup }, 10_000)) as ActorAddress;
    await sys.ask(child, 'pid', 10_000);
    const hanging = sys.ask(child, 'hang', 10_000);
    const exited = sys.listen(10_000);
    sys.tell(child, 'exit');
    await expect(hanging).rejects.toBeInstanceOf(DeadActorError);
    expect(((await exited) as { exited: ActorAddress }).exited.equals(child)).toBe(true);
    await expect(sys.ask(child, 'pid', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    sys.tell(child, 'to the dead');
    const seen = await eventually(async () => {
      const got = (await sys.ask(collector, 'get', 5000)) as Array<{ to: string; msg: unknown }>;
      return got.some((e) => e.msg === 'to the dead' && e.to === child.id) ? got : undefined;
    });
    expect(seen.length).toBeGreaterThan(0);
    // The exit status comes from the process's reaper (libuv, or the zygote), on its own schedule.
    await eventually(() => (logs.some((l) => l.includes('exited with code 3')) ? true : undefined), 5000);
  });

  it('report a process killed with SIGKILL, and keep the rest running', async () => {
    const sys = await start();
    const bystander = await sys.createActor(PidProbe, { host: 'process', startup });
    const supervisor = await sys.createActor(ProcessSupervisor);
    const child = (await sys.ask(supervisor, { spawn: startup }, 10_000)) as ActorAddress;
    const { pid } = (await sys.ask(child, 'pid', 10_000)) as { pid: number };
    const hanging = sys.ask(child, 'hang', 10_000);
    process.kill(pid, 'SIGKILL');
    await expect(hanging).rejects.toBeInstanceOf(DeadActorError);
    expect(((await sys.listen(10_000)) as { exited: ActorAddress }).exited.equals(child)).toBe(true);
    expect(await sys.ask(bystander, 'pid', 10_000)).toHaveProperty('pid');
  });

  // 1,000 forked ones (reaped by their zygote, through the addon); 250 spawned
  // (reaped by Node itself), each of which costs a whole node start: 1,000
  // took most of the timeout on a loaded 2-core machine.
  it('leaves no zombie and no process behind after many short-lived process actors', { timeout: 240_000 }, async () => {
    const tag = tagProcesses();
    const sys = await start();
    const pids = new Set<number>();
    /** pid → start time, read while it runs (tells it from a later process with the same pid). */
    const started = new Map<number, number>();
    const total = startup === 'spawn' ? 250 : 1000;
    const concurrent = startup === 'spawn' ? 16 : 32;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < total) {
        next++;
        const probe = await sys.createActor(PidProbe, { host: 'process', startup });
        const { pid } = (await sys.ask(probe, 'pid', 30_000)) as { pid: number };
        pids.add(pid);
        const since = startTime(pid);
        if (since !== undefined) started.set(pid, since);
        sys.tell(probe, new ActorExitRequest());
      }
    };
    await Promise.all(Array.from({ length: concurrent }, lane));
    expect(pids.size).toBe(total);
    // Every process left, and every one that left was reaped.
    const settled = await eventually(async () => ((await sys.status()).processes === 1 ? true : undefined), 30_000);
    expect(settled).toBe(true);
    // Every process the test created is gone, wherever it is now (one
    // re-parented out of our tree included): neither running nor a zombie.
    await eventually(() => ([...started].some(([pid, since]) => startTime(pid) === since) ? undefined : true), 10_000);
    expect(descendants(process.pid).filter((p) => p.state === 'Z')).toEqual([]);
    // And once the system stops, nothing it started is left, nor anything they started.
    await sys.shutdown();
    await eventually(() => (withEnv(TAG, tag).length === 0 ? true : undefined), 10_000);
  });
});

describe('process lifetimes', () => {
  it('a process actor’s own children get processes of their own', async () => {
    const sys = await start();
    const parent = await sys.createActor(PidProbe, { host: 'process' });
    const children = (await sys.ask(parent, { children: 2 }, 10_000)) as ActorAddress[];
    const pids = await Promise.all(children.map(async (c) => ((await sys.ask(c, 'pid', 10_000)) as { pid: number }).pid));
    const own = ((await sys.ask(parent, 'pid', 10_000)) as { pid: number }).pid;
    expect(new Set([own, ...pids]).size).toBe(3);
  });

  it('an actor’s children created with host: \'inline\' stay in its process', async () => {
    system = await ActorSystem.start({ base: 'processes', logger: (r) => logs.push(`${r.level} ${r.message}`) });
    const parent = await system.createActor(PidProbe);
    const own = ((await system.ask(parent, 'pid', 10_000)) as { pid: number }).pid;
    const before = (await system.status()).processes;
    const children = (await system.ask(parent, { inlineChildren: 3 }, 10_000)) as ActorAddress[];
    const pids = await Promise.all(children.map(async (c) => ((await system!.ask(c, 'pid', 10_000)) as { pid: number }).pid));
    expect(pids).toEqual([own, own, own]);
    expect((await system.status()).processes).toBe(before);
  });

  it.runIf(nativeStatus().available)('the default startup is forkserver when the addon is built', async () => {
    const sys = await start();
    const probe = await sys.createActor(PidProbe, { host: 'process' });
    const { ppid } = (await sys.ask(probe, 'pid', 10_000)) as { ppid: number };
    expect(ppid).not.toBe(process.pid);
    expect(readFileSync(`/proc/${ppid}/cmdline`, 'utf8')).toContain('zygote-entry.js');
    expect(readFileSync(`/proc/${ppid}/environ`, 'latin1').split('\0')).toContain('THESPIS_ZYGOTE=forkserver');
  });

  it.runIf(nativeStatus().available)('zygotes run --single-threaded, and so do the processes they fork (spawned ones do not)', async () => {
    const sys = await start();
    for (const startup of STARTUPS) {
      const probe = await sys.createActor(PidProbe, { host: 'process', startup });
      const { ppid, execArgv } = (await sys.ask(probe, 'pid', 10_000)) as { ppid: number; execArgv: string[] };
      if (startup === 'spawn') {
        expect(ppid).toBe(process.pid);
        expect(execArgv).not.toContain('--single-threaded');
      } else {
        expect(readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded');
        expect(execArgv).toContain('--single-threaded');
      }
    }
  });

  it('shutdown() leaves no process behind', async () => {
    const tag = tagProcesses();
    const sys = await start();
    const pids: number[] = [];
    for (const startup of STARTUPS) {
      const probe = await sys.createActor(PidProbe, { host: 'process', startup });
      pids.push(((await sys.ask(probe, 'pid', 10_000)) as { pid: number }).pid);
    }
    const below = descendants(process.pid).map((p) => p.pid);
    expect(below.length).toBeGreaterThanOrEqual(pids.length);
    await sys.shutdown();
    expect(below.filter(alive)).toEqual([]);
    expect(descendants(process.pid).filter((p) => below.includes(p.pid))).toEqual([]);
    expect(withEnv(TAG, tag)).toEqual([]);
  });

  it('every child exits within 2 s when the system’s process is killed with SIGKILL', { timeout: 60_000 }, async () => {
    const script = fileURLToPath(new URL('./fixtures/orphan-parent.mjs', import.meta.url));
    const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      parent.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      parent.once('exit', (code) => reject(new Error(`the system process exited early (${code})`)));
    });
    const { pids } = JSON.parse(line) as { pids: number[] };
    const family = descendants(parent.pid!).map((p) => p.pid);
    expect(family).toEqual(expect.arrayContaining(pids));
    const gone = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await gone;
    const killedAt = Date.now();
    await eventually(() => (family.some(alive) ? undefined : true), 2000);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(2000);
  });

  it('without the addon, spawn works, and the forked startups and socket hand-off say the addon is needed', { timeout: 60_000 }, async () => {
    const script = fileURLToPath(new URL('./fixtures/no-native.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, THESPIS_NO_NATIVE: '1' } });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const result = JSON.parse(out) as Record<string, unknown>;
    expect(result.native).toBe(false);
    expect(result.spawned).toBe(true);
    expect(result.defaultStartupParent).toBe('system');
    expect(result.fork).toMatch(/^NativeAddonMissingError: .*native addon.*npm install/);
    expect(result.forkserver).toMatch(/^NativeAddonMissingError/);
    expect(result.systemFork).toBe('NativeAddonMissingError');
    expect(result.handOff).toMatch(/could not be encoded.*handing off a socket needs the thespis native addon/);
    expect(result.serverKept).toBe(true);
  });
});
