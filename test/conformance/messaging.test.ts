import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, ActorTimeoutError, InvalidActorAddressError } from '../../dist/index.js';
import {
  AsyncRecorder,
  BadSender,
  Burst,
  Echo,
  Greeting,
  OrderChecker,
  Recorder,
  Replier,
  Spawner,
} from '../fixtures/basic-actors.js';
import { BASES, startSystem } from './bases.js';

describe.each(BASES)('messaging on %s', (base) => {
  let system: ActorSystem;
  beforeAll(async () => {
    ({ system } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('echoes through ask', async () => {
    const echo = await system.createActor(Echo);
    expect(echo).toBeInstanceOf(ActorAddress);
    expect(await system.ask(echo, 'hi', 2000)).toBe('hi');
    expect(await system.ask(echo, { nested: [1, { two: 2 }] }, 2000)).toEqual({ nested: [1, { two: 2 }] });
  });

  it('rejects an unanswered ask with ActorTimeoutError', async () => {
    const recorder = await system.createActor(Recorder);
    const started = Date.now();
    await expect(system.ask(recorder, 'no reply', 100)).rejects.toBeInstanceOf(ActorTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('resolves an ask with the first reply and sends later replies to listen', async () => {
    const replier = await system.createActor(Replier);
    expect(await system.ask(replier, { replies: 3 }, 2000)).toEqual({ seq: 0 });
    expect(await system.listen(2000)).toEqual({ seq: 1 });
    expect(await system.listen(2000)).toEqual({ seq: 2 });
    await expect(system.listen(50)).rejects.toBeInstanceOf(ActorTimeoutError);
  });

  it('keeps concurrent asks apart', async () => {
    const echoes = await Promise.all([1, 2, 3].map(() => system.createActor(Echo)));
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => system.ask(echoes[i % 3]!, { i }, 5000)),
    );
    expect(replies).toEqual(Array.from({ length: 60 }, (_, i) => ({ i })));
  });

  it('gives private endpoints their own mail', async () => {
    const echo = await system.createActor(Echo);
    const a = system.private();
    const b = system.private();
    expect(a.address.equals(b.address)).toBe(false);
    a.tell(echo, 'for a');
    b.tell(echo, 'for b');
    expect(await b.listen(2000)).toBe('for b');
    expect(await a.listen(2000)).toBe('for a');
    await expect(system.listen(50)).rejects.toBeInstanceOf(ActorTimeoutError);
  });

  it('delivers messages sent to a child before it existed, in order', async () => {
    const spawner = await system.createActor(Spawner);
    const messages = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const child = (await system.ask(spawner, { spawnRecorder: messages }, 5000)) as ActorAddress;
    expect(child).toBeInstanceOf(ActorAddress);
    expect(await system.ask(child, 'get', 5000)).toEqual(messages);
  });

  it('throws InvalidActorAddressError for a non-address target', async () => {
    const bad = await system.createActor(BadSender);
    const reply = (await system.ask(bad, 'not an address', 2000)) as { name: string; message: string };
    expect(reply.name).toBe('InvalidActorAddressError');
    expect(reply.message).toContain('ActorAddress');
    expect(() => system.tell('nope' as unknown as ActorAddress, 1)).toThrow(InvalidActorAddressError);
    await expect(async () => system.ask({ id: 'x' } as unknown as ActorAddress, 1, 100)).rejects.toBeInstanceOf(InvalidActorAddressError);
  });

  it('delivers registered message classes as instances, and rich values intact', async () => {
    const echo = await system.createActor(Echo);
    const greeting = (await system.ask(echo, new Greeting('ada'), 2000)) as Greeting;
    expect(greeting).toBeInstanceOf(Greeting);
    expect(greeting.name).toBe('ada');
    const rich = {
      when: new Date(1_700_000_000_000),
      map: new Map([['k', 1]]),
      set: new Set([1, 2]),
      bytes: new Uint8Array([1, 2, 3]),
      big: 2n ** 70n,
      address: echo,
    };
    const back = (await system.ask(echo, rich, 2000)) as typeof rich;
    expect(back.when).toBeInstanceOf(Date);
    expect(back.when.getTime()).toBe(rich.when.getTime());
    expect(back.map.get('k')).toBe(1);
    expect([...back.set]).toEqual([1, 2]);
    expect([...back.bytes]).toEqual([1, 2, 3]);
    expect(back.big).toBe(2n ** 70n);
    expect(back.address.equals(echo)).toBe(true);
  });

  it('holds the next message until an async handler settles', async () => {
    const recorder = await system.createActor(AsyncRecorder);
    for (let i = 0; i < 6; i++) system.tell(recorder, i);
    const log = await system.ask(recorder, 'get', 5000);
    expect(log).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`start ${i}`, `end ${i}`]));
  });

  it('keeps per-sender order for 2 × 20,000 messages between actors', async () => {
    const checker = await system.createActor(OrderChecker);
    const [a, b] = await Promise.all([system.createActor(Burst), system.createActor(Burst)]);
    system.tell(a, { to: checker, n: 20_000, tag: 'a' });
    system.tell(b, { to: checker, n: 20_000, tag: 'b' });
    let result: { total: number; next: Record<string, number>; violations: number };
    const deadline = Date.now() + 20_000;
    do {
      result = (await system.ask(checker, 'result', 5000)) as typeof result;
    } while (result.total < 40_000 && Date.now() < deadline);
    expect(result).toEqual({ total: 40_000, next: { a: 20_000, b: 20_000 }, violations: 0 });
  });
});
