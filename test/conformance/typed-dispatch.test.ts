import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem } from '../../dist/index.js';
import { Greeting, SpecialGreeting } from '../fixtures/basic-actors.js';
import { TypedGreeter } from '../fixtures/lifecycle-actors.js';
import { BASES, startSystem } from './bases.js';

describe.each(BASES)('typed dispatch on %s', (base) => {
  let system: ActorSystem;
  beforeAll(async () => {
    ({ system } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('chooses the handler by message class, nearest superclass first, with fallbacks', async () => {
    const greeter = await system.createActor(TypedGreeter);
    expect(await system.ask(greeter, new Greeting('ada'), 2000)).toBe('greeting:Greeting:ada');
    expect(await system.ask(greeter, new SpecialGreeting('bob'), 2000)).toBe('greeting:SpecialGreeting:bob');
    expect(await system.ask(greeter, 'text', 2000)).toBe('string:text');
    expect(await system.ask(greeter, { a: 1, b: 2 }, 2000)).toBe('object:a,b');
    expect(await system.ask(greeter, 42, 2000)).toBe('unrecognized:number');
  });
});
