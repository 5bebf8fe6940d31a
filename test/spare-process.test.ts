// The forkserver's spare (hosts/spare-process.ts): a process forked and
// warmed before it is needed, which the next forkserver create becomes.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, nativeStatus, type ActorAddress } from '../dist/index.js';
import { PidProbe } from './fixtures/process-actors.js';
import { eventually } from './conformance/bases.js';
import { processes } from './proc.js';

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(() => system?.shutdown());

/** A forkserver system that records its log, debug lines included (the spare says when it is warm). */
async function start(): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base: 'workers', workers: 1, startup: 'forkserver', logLevel: 'debug', logger: (r) => logs.push(r.message) });
  return system;
}

function warm(pid: number): Promise<true> {
  return eventually(() => (logs.includes(`spare process ${pid} is warm`) ? true : undefined), 10_000);
}

/** Pids of the live children of `parent`. */
function childrenOf(parent: number): number[] {
  return processes()
    .filter((p) => p.ppid === parent && p.state !== 'Z')
    .map((p) => p.pid);
}

function isZygote(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('zygote-entry.js');
  } catch {
    return false;
  }
}

async function pidOf(sys: ActorSystem, probe: ActorAddress): Promise<number> {
  return ((await sys.ask(probe, 'pid', 10_000)) as { pid: number }).pid;
}

/** The zygote's one child that is not running any of `busy`: the spare. */
async function spareBesides(busy: number[]): Promise<number> {
  return eventually(() => {
    const zygote = childrenOf(process.pid).find(isZygote);
    const idle = zygote === undefined ? [] : childrenOf(zygote).filter((pid) => !busy.includes(pid));
    return idle.length === 1 ? idle[0] : undefined;
  }, 10_000);
}

describe.runIf(nativeStatus().available)('the forkserver spare', () => {
  it('is forked before it is needed, and the next create runs in it', async () => {
    const sys = await start();
    const first = await pidOf(sys, await sys.createActor(PidProbe, { host: 'process' }));
    const spare = await spareBesides([first]);
    // A create that comes before the spare is warm takes a plain fork; once it is, the next one is its.
    await warm(spare);
    expect(await pidOf(sys, await sys.createActor(PidProbe, { host: 'process' }))).toBe(spare);
    // And another spare replaces it.
    const next = await spareBesides([first, spare]);
    expect([first, spare]).not.toContain(next);
    await sys.shutdown();
    expect(childrenOf(process.pid)).toEqual([]);
  });

  it('a spare that dies while it waits is replaced, and creates go on', async () => {
    const sys = await start();
    const first = await pidOf(sys, await sys.createActor(PidProbe, { host: 'process' }));
    const spare = await spareBesides([first]);
    process.kill(spare, 'SIGKILL');
    // The system sees its link end and forks another at once.
    const replacement = await eventually(async () => {
      const pid = await spareBesides([first]);
      return pid === spare ? undefined : pid;
    }, 10_000);
    await warm(replacement);
    expect(await pidOf(sys, await sys.createActor(PidProbe, { host: 'process' }))).toBe(replacement);
  });
});
