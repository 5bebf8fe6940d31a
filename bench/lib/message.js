// The 5-field message every codec and transport figure moves, so figures
// compare like with like. Frozen: inline delivery passes the object itself.
// Its own module so actor modules loaded in workers do not pull in benchmark.js.

export const MESSAGE = Object.freeze({
  kind: 'update',
  seq: 123456,
  key: 'sensor-17',
  value: 21.375,
  ok: true,
});
