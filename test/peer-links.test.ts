// Direct links between process actors that talk a lot (hosts/peer-links.ts):
// the system's process introduces them, and from then on their messages do
// not pass through it — in order across the switch, and with dead letters,
// not silence, once one of them is gone.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorExitRequest, ActorSystem, nativeStatus, type ActorAddress, type Startup } from '../dist/index.js';
import { Counter, DeadLetterCounter, Echo, Pinger, SequenceChecker, SequenceSender } from './fixtures/peer-actors.js';
import { eventually } from './conformance/bases.js';

// Direct links need descriptor passing: without the addon, processes only talk through the hub.
const STARTUPS: Startup[] = nativeStatus().available ? ['spawn', 'forkserver'] : [];

let system: ActorSystem | undefined;
let logs: string[] = [];
afterEach(() => system?.shutdown());

async function start(startup: Startup): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base: 'processes', startup, logger: (r) => logs.push(`${r.level} ${r.message}`) });
  return system;
}

/** Blocks this thread (the system's process) until `file` exists or `ms` pass; true if it appeared. */
function blockUntilFile(file: string, ms: number): boolean {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) if (existsSync(file)) return true;
  return false;
}

describe.runIf(STARTUPS.length > 0).each(STARTUPS)('direct links between processes (%s)', (startup) => {
  it('two process actors keep talking while the system’s process is blocked', async () => {
    const sys = await start(startup);
    const pinger = await sys.createActor(Pinger);
    const echo = await sys.createActor(Echo);
    // Enough traffic through the hub for it to introduce the two.
    expect(await sys.ask(pinger, { target: echo, rounds: 300 }, 20_000)).toEqual({ rounds: 300 });
    const dir = mkdtempSync(join(tmpdir(), 'thespis-peer-'));
    try {
      const doneFile = join(dir, 'done');
      sys.tell(pinger, { target: echo, rounds: 2000, doneFile });
      // The tell leaves in this turn's flush; the event loop must turn once to send it.
      await new Promise((resolve) => setImmediate(resolve));
      // No event loop here from now on: only a direct link lets 2,000 round trips happen.
      expect(blockUntilFile(doneFile, 15_000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps order across the switch from the hub to a direct link, which then carries the stream', async () => {
    const sys = await start(startup);
    const sender = await sys.createActor(SequenceSender);
    const checker = await sys.createActor(SequenceChecker);
    const dir = mkdtempSync(join(tmpdir(), 'thespis-peer-'));
    try {
      const [paused, go, done] = ['paused', 'go', 'done'].map((name) => join(dir, name)) as [string, string, string];
      // The first half goes through the system's process (in ~150 envelopes),
      // which introduces the two after 64 of them: the switch falls inside it.
      sys.tell(sender, { target: checker, count: 10_000, pauseAt: 5000, pausedFile: paused, goFile: go, doneFile: done });
      await eventually(() => existsSync(paused) || undefined, 20_000);
      // The sender has handled its introduction, and its "from now on, direct"
      // marker has passed through here: both are ahead of this answer.
      expect(await sys.ask(sender, 'ping', 10_000)).toBe('pong');
      // The second half with this process blocked: only a direct link can carry it.
      writeFileSync(go, '');
      expect(blockUntilFile(done, 15_000)).toBe(true);
      expect(JSON.parse(readFileSync(done, 'utf8'))).toEqual({ received: 10_000, outOfOrder: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process that retires while its peer still sends: every message is handled or dead-lettered', async () => {
    const sys = await start(startup);
    const deadLetters = await sys.createActor(DeadLetterCounter, { host: 'worker' });
    await sys.ask(deadLetters, 'start', 5000);
    const counter = await sys.createActor(Counter);
    const echo = await sys.createActor(Echo);
    expect(await sys.ask(counter, 'register', 10_000)).toBe('ok');
    const total = 20_000;
    // A stream from echo to counter (lasting over a second): after 64 envelopes the two get a direct link.
    sys.tell(echo, { to: counter, count: total });
    await eventually(async () => ((await sys.ask(counter, 'count', 5000)) as number) >= 2000 || undefined, 10_000);
    // The counter's process retires in the middle of the stream.
    const report = sys.listen(10_000);
    sys.tell(counter, new ActorExitRequest());
    const { counted } = (await report) as { counted: number };
    expect(counted).toBeLessThan(total);
    const dead = await eventually(async () => {
      const counts = (await sys.ask(deadLetters, 'get', 5000)) as Record<string, number>;
      const n = counts[(counter as ActorAddress).id] ?? 0;
      return counted + n >= total ? n : undefined;
    }, 15_000);
    expect(counted + dead).toBe(total);
    expect(logs.filter((line) => line.startsWith('error'))).toEqual([]);
  });
});
