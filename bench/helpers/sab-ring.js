// A minimal single-producer single-consumer ring of 32-byte records in a
// SharedArrayBuffer: the physical limit for moving small messages between two
// threads. Head and tail sit on separate cache lines; each side publishes its
// index every `publishEvery` records (1 = every record), which is the knob
// that separates "per-message cost" from "batched cost".

export const WORDS = 8; // 32-byte records
const HEAD = 0;
const TAIL = 16; // 64 bytes away from HEAD
export const FLAG = 32; // ping-pong word, its own cache line
const HEADER_WORDS = 48;

export function createRing(capacity) {
  if (capacity & (capacity - 1)) throw new Error('capacity must be a power of two');
  const sab = new SharedArrayBuffer((HEADER_WORDS + capacity * WORDS) * 4);
  return { sab, capacity };
}

function views({ sab, capacity }) {
  return {
    ctl: new Int32Array(sab, 0, HEADER_WORDS),
    data: new Int32Array(sab, HEADER_WORDS * 4, capacity * WORDS),
    mask: capacity - 1,
    capacity,
  };
}

// Spin briefly, then sleep a few microseconds: on a machine where another
// process holds one of the two cores, pure spinning would burn whole
// timeslices waiting for a side that cannot run.
const SPINS = 2000;
function backoff(ctl, index, seen, spins) {
  if (spins > SPINS) Atomics.wait(ctl, index, seen, 0.02);
  return spins + 1;
}

/** Busy both sides: this is the limit with both cores working. */
export function produce(ring, n, publishEvery) {
  const { ctl, data, mask, capacity } = views(ring);
  const every = publishEvery - 1;
  let head = Atomics.load(ctl, HEAD);
  let tail = Atomics.load(ctl, TAIL);
  for (let i = 0; i < n; i++) {
    if (head - tail >= capacity) {
      Atomics.store(ctl, HEAD, head); // never wait on a consumer that cannot see our records
      let spins = 0;
      while (head - (tail = Atomics.load(ctl, TAIL)) >= capacity) spins = backoff(ctl, TAIL, tail, spins);
    }
    const o = (head & mask) * WORDS;
    data[o] = i;
    data[o + 1] = 5;
    data[o + 2] = 17;
    data[o + 3] = 21;
    data[o + 4] = 1;
    data[o + 5] = 0;
    data[o + 6] = 0;
    data[o + 7] = i;
    head++;
    if ((head & every) === 0) Atomics.store(ctl, HEAD, head);
  }
  Atomics.store(ctl, HEAD, head);
}

/** Reads every word of n records; returns a checksum so nothing is optimised away. */
export function consume(ring, n, publishEvery) {
  const { ctl, data, mask } = views(ring);
  const every = publishEvery - 1;
  let tail = Atomics.load(ctl, TAIL);
  const end = tail + n;
  let sum = 0;
  let spins = 0;
  while (tail < end) {
    const head = Atomics.load(ctl, HEAD);
    if (head === tail) {
      spins = backoff(ctl, HEAD, head, spins);
      continue;
    }
    spins = 0;
    while (tail < head) {
      const o = (tail & mask) * WORDS;
      sum = (sum + data[o] + data[o + 1] + data[o + 2] + data[o + 3] + data[o + 4] + data[o + 5] + data[o + 6] + data[o + 7]) | 0;
      tail++;
      if ((tail & every) === 0) Atomics.store(ctl, TAIL, tail);
    }
    Atomics.store(ctl, TAIL, tail);
  }
  return sum;
}

const PING = 1;
const PONG = 2;
const STOP = 3;

/** Worker side of ping-pong: sleep in Atomics.wait until pinged, answer, repeat. */
export function answerPings({ sab }) {
  const ctl = new Int32Array(sab, 0, HEADER_WORDS);
  for (;;) {
    let v = Atomics.load(ctl, FLAG);
    while (v !== PING && v !== STOP) {
      Atomics.wait(ctl, FLAG, v);
      v = Atomics.load(ctl, FLAG);
    }
    if (v === STOP) return;
    Atomics.store(ctl, FLAG, PONG);
    Atomics.notify(ctl, FLAG);
  }
}

/** Main side: one round trip, sleeping until answered; returns its ms. */
export function ping({ sab }) {
  const ctl = new Int32Array(sab, 0, HEADER_WORDS);
  const t0 = performance.now();
  Atomics.store(ctl, FLAG, PING);
  Atomics.notify(ctl, FLAG);
  let v;
  while ((v = Atomics.load(ctl, FLAG)) !== PONG) Atomics.wait(ctl, FLAG, v);
  return performance.now() - t0;
}

export function stopPings({ sab }) {
  const ctl = new Int32Array(sab, 0, HEADER_WORDS);
  Atomics.store(ctl, FLAG, STOP);
  Atomics.notify(ctl, FLAG);
}
