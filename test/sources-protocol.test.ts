// Loadable sources on every base: the authority protocol (validate, reject,
// fail, never answer), notifications with replay, creates that wait for a
// validation, children from their parent's source, unloading while an actor
// runs, isolation of sources with the same paths, loading from an actor, and
// sources whose modules do not load. The source's actor runs where the base
// puts it: the system's thread (inline), a worker thread, a child process.
import { threadId } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, InvalidActorSpecError, nativeStatus, type ActorSystemOptions, type BaseName } from '../dist/index.js';
import { eventually } from './conformance/bases.js';
import { removeTempDirs, zipBytes } from './sources-helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/sources/', import.meta.url));
const AUTHORITIES = `${FIXTURES}authorities.js`;
const BILLING = `${FIXTURES}billing`;
const OTHER = `${FIXTURES}other`;

let system: ActorSystem | undefined;
let logs: string[] = [];

afterEach(async () => {
  await system?.shutdown();
  system = undefined;
  removeTempDirs();
});

async function start(base: BaseName, sources: ActorSystemOptions['sources'] = {}): Promise<ActorSystem> {
  logs = [];
  system = await ActorSystem.start({ base, workers: 2, sources: { packagesFrom: ROOT, ...sources }, logLevel: 'debug', logger: (r) => logs.push(`${r.level} ${r.message}`) });
  return system;
}

const authority = (s: ActorSystem, name: string): Promise<ActorAddress> => s.createActor(`${AUTHORITIES}#${name}`);

async function createFails(s: ActorSystem, spec: string, sourceHash: string, pattern: RegExp): Promise<void> {
  const error = await s.createActor(spec, { sourceHash }).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidActorSpecError);
  expect((error as Error).message).toMatch(pattern);
}

interface Bill {
  source: string;
  total: number;
  plan: string;
  roundTrip: boolean;
  pid: number;
  threadId: number;
  module: string;
  isActor: boolean;
}

describe.each(['inline', 'workers', 'processes'] as const)('loadable sources on the %s base', (base) => {
  it('loads, validates and runs a source: its own modules, JSON, thespis itself and a package of the system, where the base puts actors', async () => {
    const s = await start(base);
    const accept = await authority(s, 'AcceptAll');
    const hash = await s.loadActorSource(BILLING);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const biller = await s.createActor('billing.js#Biller', { sourceHash: hash });
    const bill = (await s.ask(biller, { bill: 21 }, 10_000)) as Bill;
    expect(bill).toMatchObject({ source: 'billing', total: 42, plan: 'standard', roundTrip: true, isActor: true });
    expect(bill.module).toBe(`thespis-mod://src/${hash}/billing.js`);
    if (base === 'inline') expect([bill.pid, bill.threadId]).toEqual([process.pid, threadId]);
    if (base === 'workers') expect(bill.pid === process.pid && bill.threadId !== threadId).toBe(true);
    if (base === 'processes') expect(bill.pid).not.toBe(process.pid);
    // The authority was asked once, with the canonical bytes and where they came from.
    const asked = (await s.ask(accept, 'asked', 5000)) as Array<{ hash: string; info: string }>;
    expect(asked).toEqual([expect.objectContaining({ hash, info: BILLING })]);
    const status = await s.status();
    expect(status.sources).toEqual([expect.objectContaining({ hash, state: 'loaded', files: 4, info: BILLING, sourceInfo: expect.stringMatching(/^accepted by/) })]);
  });

  it("an actor's children come from its own source, and isolation keeps two sources with the same paths apart", async () => {
    const s = await start(base);
    await authority(s, 'AcceptAll');
    const billing = await s.loadActorSource(BILLING);
    const other = await s.loadActorSource(OTHER);
    expect(other).not.toBe(billing);
    const a = await s.createActor('billing.js#Biller', { sourceHash: billing });
    const b = await s.createActor('./billing.js#Biller', { sourceHash: other });
    expect(await s.ask(a, { bill: 1 }, 10_000)).toMatchObject({ source: 'billing', total: 2 });
    expect(await s.ask(b, { bill: 1 }, 10_000)).toMatchObject({ source: 'other', total: 10, module: `thespis-mod://src/${other}/billing.js` });
    expect(await s.ask(a, 'child', 10_000)).toEqual({ fromChild: 'billing child', module: `thespis-mod://src/${billing}/lib/child.js` });
  });

  it('ignores a load while no authority is registered (with a warning); loading it again once one is validates it', async () => {
    const s = await start(base);
    const hash = await s.loadActorSource(BILLING);
    expect(logs.some((l) => l.startsWith('warn no source authority is registered') && l.includes(hash))).toBe(true);
    await createFails(s, 'billing.js#Biller', hash, /loaded while no source authority was registered, so it was ignored/);
    expect((await s.status()).sources).toEqual([]);
    await authority(s, 'AcceptAll');
    expect(await s.loadActorSource(BILLING)).toBe(hash);
    const biller = await s.createActor('billing.js#Biller', { sourceHash: hash });
    expect(await s.ask(biller, { bill: 2 }, 10_000)).toMatchObject({ total: 4 });
  });

  it('a create waits for a pending validation, and an answer from an actor that was not asked is ignored', async () => {
    const s = await start(base);
    const delayed = await authority(s, 'Delayed');
    const hash = await s.loadActorSource(BILLING);
    let created: ActorAddress | null = null;
    const creating = s.createActor('billing.js#Biller', { sourceHash: hash }).then((a) => (created = a));
    await eventually(async () => ((await s.ask(delayed, 'held', 5000)) === 1 ? true : undefined));
    const impostor = await s.createActor(`${AUTHORITIES}#Impostor`);
    const admin = new ActorAddress(`${s.systemId}:main`, `${s.systemId}:main.admin`);
    expect(await s.ask(impostor, { hash, admin }, 5000)).toBe('sent');
    await eventually(() => logs.find((l) => l.includes(`ignored a ValidatedSource for ${hash}`)));
    expect(created).toBeNull();
    expect((await s.status()).sources).toEqual([expect.objectContaining({ hash, state: 'pending' })]);
    // An actor's create from it waits too (its kernel asks the admin, which answers once it is settled).
    const loader = await s.createActor(`${AUTHORITIES}#Loader`);
    const fromActor = s.ask(loader, { create: 'billing.js#Biller', sourceHash: hash }, 20_000);
    expect(await s.ask(delayed, 'go', 5000)).toBe('went');
    await creating;
    expect(await s.ask(created!, { bill: 3 }, 10_000)).toMatchObject({ total: 6 });
    expect(await fromActor).toMatchObject({ source: 'billing', total: 2 });
  });

  it('names why a hash cannot be used: unknown, rejected, unloaded, not a hash', async () => {
    const s = await start(base);
    await createFails(s, 'billing.js#Biller', 'ab'.repeat(32), /no source with hash abab.* is loaded on this system/);
    await expect(s.createActor('billing.js#Biller', { sourceHash: 'abc' })).rejects.toThrow(/sourceHash must be a source's SHA-256/);
    await expect(s.createActor('file:///x.js#X', { sourceHash: 'ab'.repeat(32) })).rejects.toThrow(/names a module inside the source/);
    await authority(s, 'RejectAll');
    const hash = await s.loadActorSource(BILLING);
    await createFails(s, 'billing.js#Biller', hash, /was rejected by the source authority \(not today\)/);
    expect((await s.status()).sources).toEqual([]);
  });

  it('unloading stops new creates (children of a running actor too), while the running actor keeps working; watchers see it, and get loaded sources replayed', async () => {
    const s = await start(base);
    await authority(s, 'AcceptAll');
    const billing = await s.loadActorSource(BILLING);
    const other = await s.loadActorSource(OTHER);
    const watcher = await s.createActor(`${AUTHORITIES}#Watcher`);
    const seen = (): Promise<unknown> => s.ask(watcher, 'seen', 5000);
    // Registered after both loads: both are replayed.
    expect(new Set((await seen()) as unknown[])).toEqual(new Set([['loaded', billing, expect.any(String)], ['loaded', other, expect.any(String)]]));
    const biller = await s.createActor('billing.js#Biller', { sourceHash: billing });
    expect(await s.unloadActorSource(billing)).toBe(true);
    expect(await s.unloadActorSource(billing)).toBe(false);
    await eventually(async () => (((await seen()) as unknown[]).length === 3 ? true : undefined));
    expect(((await seen()) as unknown[])[2]).toEqual(['unloaded', billing]);
    expect(await s.ask(biller, { bill: 5 }, 10_000)).toMatchObject({ total: 10 });
    await createFails(s, 'billing.js#Biller', billing, new RegExp(`source ${billing} was unloaded`));
    expect(await s.ask(biller, 'child', 10_000)).toEqual({ childExited: true });
    expect(logs).toContain(`info source ${billing} unloaded`);
    expect((await s.status()).sources.map((x) => x.hash)).toEqual([other]);
  });

  it('an actor loads, creates from and unloads a source; a bad path gets a typed error back', async () => {
    const s = await start(base);
    await authority(s, 'AcceptAll');
    const loader = await s.createActor(`${AUTHORITIES}#Loader`);
    const { hash } = (await s.ask(loader, { load: OTHER }, 10_000)) as { hash: string };
    expect(hash).toBe(await s.loadActorSource(OTHER));
    expect(await s.ask(loader, { create: 'billing.js#Biller', sourceHash: hash }, 10_000)).toMatchObject({ source: 'other', total: 10 });
    expect(await s.ask(loader, { load: await zipBytes({ 'a.js': 'export {}' }) }, 10_000)).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(await s.ask(loader, { load: `${FIXTURES}nowhere` }, 10_000)).toEqual({ error: expect.stringMatching(/^InvalidSourceError: cannot read source .*nowhere: no such file/) });
    expect(await s.ask(loader, { unload: hash }, 10_000)).toEqual({ unloaded: true });
    expect(await s.ask(loader, { create: 'billing.js#Biller', sourceHash: hash }, 10_000)).toEqual({ exited: true });
  });

  it('an authority that throws rejects the source; one that never answers lets it expire, with a clear error', async () => {
    const s = await start(base, { validationTimeoutMs: 300 });
    const throwing = await authority(s, 'Throwing');
    const hash = await s.loadActorSource(BILLING);
    await createFails(s, 'billing.js#Biller', hash, /rejected: the source authority failed on it .*the authority broke/);
    await s.tell(throwing, new (await import('../dist/index.js')).ActorExitRequest());
    await authority(s, 'Silent');
    await s.loadActorSource(BILLING);
    const started = Date.now();
    await createFails(s, 'billing.js#Biller', hash, /validation of source .* expired: the source authority did not answer within 300 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a source with a syntax error, or importing a module it lacks, fails its create with InvalidActorSpecError saying so', async () => {
    const s = await start(base);
    await authority(s, 'AcceptAll');
    const broken = await s.loadActorSource(await zipBytes({ 'bad.js': "import { Actor } from 'thespis';\nexport class Bad extends Actor {\n  receiveMessage( {\n}\n" }));
    await createFails(s, 'bad.js#Bad', broken, /cannot load actor module thespis-mod:\/\/src\/[0-9a-f]+\/bad\.js: .*(Unexpected|SyntaxError|expected)/i);
    const lacking = await s.loadActorSource(await zipBytes({ 'a.js': "export { x } from './lib/missing.js';\n" }));
    await createFails(s, 'a.js#A', lacking, /has no module lib\/missing\.js/);
    const noExport = await s.loadActorSource(await zipBytes({ 'c.js': 'export const c = 1;\n' }));
    await createFails(s, 'c.js#C', noExport, /has no actor class exported as "C"/);
    await createFails(s, 'nothere.js#C', noExport, /has no module nothere\.js/);
    const climbing = await s.loadActorSource(await zipBytes({ 'lib/d.js': "export { x } from '../../outside.js';\n" }));
    await createFails(s, 'lib/d.js#D', climbing, /climbs out of its module tree thespis-mod:\/\/src\/[0-9a-f]{64}\//);
    await expect(s.createActor('../d.js#D', { sourceHash: climbing })).rejects.toThrow(/is not a file inside source/);
  });
});

describe('a source’s actor in a process started each way', () => {
  const startups = nativeStatus().available ? (['spawn', 'fork', 'forkserver'] as const) : (['spawn'] as const);
  it.each(startups)('startup %s', async (startup) => {
    const s = await start('processes');
    await authority(s, 'AcceptAll');
    const hash = await s.loadActorSource(BILLING);
    const biller = await s.createActor('billing.js#Biller', { sourceHash: hash, startup });
    const bill = (await s.ask(biller, { bill: 1 }, 10_000)) as Bill;
    expect(bill.total).toBe(2);
    expect(bill.pid).not.toBe(process.pid);
    expect(await s.ask(biller, 'child', 10_000)).toMatchObject({ fromChild: 'billing child' });
  });
});

describe('the example', () => {
  it('examples/sources.js runs: load, validation, a create from the source, unload', async () => {
    const { execFileSync } = await import('node:child_process');
    const example = fileURLToPath(new URL('../examples/sources.js', import.meta.url));
    const out = execFileSync(process.execPath, [example], { encoding: 'utf8', timeout: 30_000 });
    const hash = /as ([0-9a-f]{64})/.exec(out)![1];
    expect(out).toContain(`source ${hash} loaded (small enough)`);
    expect(out).toMatch(/biller answered \{\s+amount: 40,\s+tax: 10/);
    expect(out).toMatch(/after unload, biller still answers \{\s+amount: 4,\s+tax: 1/);
    expect(out).toContain(`InvalidActorSpecError: source ${hash} was unloaded`);
  });
});
