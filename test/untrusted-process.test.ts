// Bytes from a process are untrusted (README, "Process actors"): a process
// that breaks the protocol, on its link to the system's process or on a
// direct link to another process, loses its link and is killed; the reason
// is logged; every other actor and process carries on. The saboteur writes
// real protocol pieces (envelopes, framing) built wrong, and refuses to
// leave on its own, so only the system killing it can end it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, DeadActorError, nativeStatus, type ActorAddress, type Startup } from '../dist/index.js';
import { Echo as InlineEcho } from './fixtures/basic-actors.js';
import { Echo } from './fixtures/peer-actors.js';
import { Saboteur } from './fixtures/saboteur-actors.js';
import { eventually } from './conformance/bases.js';
import { alive } from './proc.js';

// Direct links and the raw link descriptor need the addon (fd links).
const STARTUPS: Startup[] = nativeStatus().available ? ['spawn', 'forkserver'] : [];

/** What each kind of bad record is reported as: on the link to the system, and on a direct link. */
const KINDS: Record<string, { hub: RegExp; direct: RegExp }> = {
  garbage: { hub: /break the framing.*malformed record/, direct: /malformed record, on the direct link/ },
  'junk-payload': { hub: /sent a bad batch/, direct: /a bad batch: CodecError/ },
  oversize: { hub: /break the framing.*exceeds the limit/, direct: /exceeds the limit .*, on the direct link/ },
  'too-deep': { hub: /sent a bad batch.*nesting too deep/, direct: /a bad batch: .*nesting too deep/ },
  'spoofed-source': { hub: /not an envelope from that process/, direct: /not a batch from it to this kernel, on the direct link/ },
};

// Without the addon a process's link is a plain Unix-socket connection (stream-link.ts), checked the same way.
describe('a process that breaks the protocol, without the addon', () => {
  it('loses its link and is killed, with the reason logged, whatever it sends', { timeout: 60_000 }, async () => {
    const script = fileURLToPath(new URL('./fixtures/untrusted-no-native.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, THESPIS_NO_NATIVE: '1' } });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const result = JSON.parse(out) as { native: boolean; kinds: Record<string, { logged: string | null; killed: boolean }>; bystander: unknown };
    expect(result.native).toBe(false);
    const reasons: Record<string, RegExp> = {
      garbage: /not an envelope from that process/,
      'junk-payload': /sent a bad batch/,
      oversize: /break the framing.*exceeds the limit/,
      'too-deep': /sent a bad batch.*nesting too deep/,
      'spoofed-source': /not an envelope from that process/,
    };
    for (const [kind, reason] of Object.entries(reasons)) {
      expect(result.kinds[kind]!.logged, kind).toMatch(reason);
      expect(result.kinds[kind]!.killed, kind).toBe(true);
    }
    expect(result.bystander).toEqual({ n: 3 });
  });
});

describe.runIf(STARTUPS.length > 0).each(STARTUPS)('a process that breaks the protocol (%s)', (startup) => {
  let system: ActorSystem;
  let logs: string[];
  let bystander: ActorAddress;
  let onMain: ActorAddress;

  beforeAll(async () => {
    logs = [];
    system = await ActorSystem.start({
      base: 'processes',
      startup,
      logger: (r) => logs.push(`${r.level} ${r.message}${r.detail === undefined ? '' : ` ${String(r.detail)}`}`),
    });
    bystander = await system.createActor(Echo);
    onMain = await system.createActor(InlineEcho, { host: 'inline' });
  });
  afterAll(() => system.shutdown());

  /** A saboteur in a process of its own, and its pid. */
  async function saboteur(): Promise<{ address: ActorAddress; pid: number }> {
    const address = await system.createActor(Saboteur);
    const { pid, sockets } = (await system.ask(address, 'pid', 10_000)) as { pid: number; sockets: number };
    expect(sockets).toBe(1); // its link to the system, and nothing else yet
    return { address, pid };
  }

  /** The saboteur is killed and reported; everyone else still answers. */
  async function expectKilled(address: ActorAddress, pid: number, reason: RegExp): Promise<void> {
    const line = await eventually(() => logs.find((l) => l.startsWith('error') && l.includes(`process kernel ${address.kernel} sent`)), 10_000);
    expect(line).toMatch(reason);
    await eventually(() => (alive(pid) ? undefined : true), 10_000);
    await expect(system.ask(address, 'pid', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    expect(await system.ask(bystander, { n: 7 }, 10_000)).toEqual({ n: 7 });
    expect(await system.ask(onMain, 'still here', 10_000)).toBe('still here');
  }

  it.each(Object.keys(KINDS))('on its link to the system (%s): loses it, is killed, and the rest carries on', async (kind) => {
    const { address, pid } = await saboteur();
    // A tell: its answer would share the link with the bad bytes, and what
    // comes in one read with a breach is dropped with the link.
    system.tell(address, { sabotage: kind, on: 'hub', to: system.address });
    await expectKilled(address, pid, KINDS[kind]!.hub);
  });

  it('a process that ends its link to the system and stays is killed', async () => {
    const { address, pid } = await saboteur();
    expect(await system.ask(address, 'abandon', 10_000)).toHaveProperty('abandoning');
    await eventually(() => (alive(pid) ? undefined : true), 10_000);
    await eventually(() => logs.find((l) => l.includes(`process kernel ${address.kernel} (pid ${pid}) exited with SIGKILL`)), 10_000);
    await expect(system.ask(address, 'pid', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    expect(await system.ask(bystander, { n: 7 }, 10_000)).toEqual({ n: 7 });
  });

  it.each(Object.keys(KINDS))('on a direct link (%s): loses it, is killed, and the rest carries on', async (kind) => {
    const { address, pid } = await saboteur();
    const peer = await system.createActor(Echo);
    // Enough traffic through the system's process for it to introduce the two.
    expect(await system.ask(address, { chat: peer, rounds: 200 }, 20_000)).toEqual({ rounds: 200 });
    const wrote = await eventually(async () => {
      const answer = (await system.ask(address, { sabotage: kind, on: 'direct', to: peer }, 10_000)) as { wrote?: number };
      return answer.wrote;
    }, 10_000);
    expect(wrote).toBeGreaterThan(2);
    await expectKilled(address, pid, new RegExp(`sent ${peer.kernel} bytes that break the protocol \\(.*${KINDS[kind]!.direct.source}`));
    // The peer closed its end, and still works.
    expect(await system.ask(peer, { n: 9 }, 10_000)).toEqual({ n: 9 });
    expect(logs.some((l) => l.includes(`the direct link from ${address.kernel}`) || l.includes(`the direct link to ${address.kernel} failed`))).toBe(true);
  });
});
