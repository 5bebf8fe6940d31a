// How thespis suites reach thespis. Everything here goes through ctx.need, so
// a feature that has not landed (dist/ not built, a base or host that does not
// exist yet) makes the figure absent instead of failing the run.

import { withTimeout } from '../lib/context.js';
import { now } from '../lib/measure.js';

const START_MS = 30_000;

export function loadThespis(ctx) {
  return ctx.need('thespis (is dist/ built?)', () => import('thespis'));
}

/** An actor class from bench/actors/<file>.js, exported under `name`. */
export async function actorClass(ctx, file, name) {
  const mod = await ctx.need(`bench actor ${file}`, () => import(`../actors/${file}.js`));
  return mod[name];
}

export async function startSystem(ctx, options) {
  const { ActorSystem } = await loadThespis(ctx);
  return ctx.need(`ActorSystem.start(${JSON.stringify(options)})`, () =>
    withTimeout(ActorSystem.start(options), START_MS, 'ActorSystem.start'),
  );
}

export function createActor(ctx, system, cls, options = {}) {
  const what = `createActor(${cls.name}${Object.keys(options).length ? `, ${JSON.stringify(options)}` : ''})`;
  return ctx.need(what, () => withTimeout(system.createActor(cls, options), START_MS, what));
}

/**
 * Runs a system for the body and always shuts it down, bounded: a shutdown
 * that hangs must not eat the suite's whole time limit.
 */
export async function withSystem(ctx, options, body) {
  const system = await startSystem(ctx, options);
  try {
    return await body(system);
  } finally {
    await withTimeout(system.shutdown(), 15_000, 'shutdown').catch(() => {});
  }
}

/**
 * One one-way flow of n messages from a Sender to a Counter actor; returns
 * milliseconds from the go to the Counter's report.
 */
export async function flow(system, sender, counter, n, timeoutMs) {
  const endpoint = typeof system.private === 'function' ? system.private() : system;
  await endpoint.ask(counter, { expect: n }, timeoutMs);
  const t0 = now();
  endpoint.tell(sender, { go: n, target: counter });
  await endpoint.listen(timeoutMs);
  return now() - t0;
}
