/**
 * Where a new actor goes in the worker pool. Every pool thread publishes its
 * actor count in a shared Int32Array (one slot per pool thread), so any thread
 * can place synchronously — createActor must return an address at once.
 *
 * Policy (as Orleans' prefer-local and Erlang's local spawn): the creator's
 * own thread while it is not busy — children talk to their parents, and
 * same-thread messages are not copied. Busy means its run queue is backed up
 * (`ownBacklog`: cells that were waiting when the creating handler began, see
 * Dispatcher.backlog), or it holds far more actors than the least loaded
 * thread (an idle actor costs little, so the cap is loose). Otherwise, and for
 * the system's own creates, the least loaded thread. The counts are read without
 * locks; two threads placing at the same moment may both pick the same
 * thread, which the next placements even out. The placer counts the actor on
 * its target at once (the target only uncounts it when it dies), so a burst
 * of creates spreads even before any of them exists.
 */
export interface PoolView {
  /** Actor count per pool slot. */
  readonly loads: Int32Array;
  /** Kernel id per pool slot ('' while a slot is being replaced). */
  readonly slots: string[];
}

const BUSY_BACKLOG = 64;
const IMBALANCE_FACTOR = 4;
const IMBALANCE_SLACK = 1024;

/** `ownSlot` -1: no preference (the main thread, or a troupe spreading its members). */
export function choosePoolKernel(pool: PoolView, ownSlot: number, ownBacklog = 0): string | undefined {
  let best = -1;
  for (let i = 0; i < pool.slots.length; i++) {
    if (pool.slots[i] === '') continue;
    if (best < 0 || Atomics.load(pool.loads, i) < Atomics.load(pool.loads, best)) best = i;
  }
  if (best < 0) return undefined;
  let chosen = best;
  if (ownSlot >= 0 && pool.slots[ownSlot] !== '' && ownBacklog < BUSY_BACKLOG) {
    const least = Atomics.load(pool.loads, best);
    if (Atomics.load(pool.loads, ownSlot) <= least * IMBALANCE_FACTOR + IMBALANCE_SLACK) chosen = ownSlot;
  }
  Atomics.add(pool.loads, chosen, 1);
  return pool.slots[chosen];
}

/** Count an actor placed on a known slot without choosing (host: 'inline' in a pool thread). */
export function countOn(pool: PoolView, slot: number): void {
  if (slot >= 0) Atomics.add(pool.loads, slot, 1);
}
