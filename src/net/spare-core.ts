/**
 * Whether this machine has a core to spare for a link to poll on.
 *
 * A link between systems polls its socket briefly after a batch (fd-link.ts,
 * ring-spin.ts) so a conversation pays no wake-ups. That is only worth it
 * while the peer process can run at the same time on another core. On an
 * oversubscribed machine the poll takes the core the peer needs, and the
 * reply comes after it: measured here on 2 vCPUs at a load average of ~24,
 * ping-pong between two systems was 75-140 µs polling and 27-47 µs without.
 * The adaptive spin backs off when its polls keep failing, but under such
 * load some polls still succeed and restore it. So polling is allowed only
 * while the load average (one minute, read at most once a second) leaves a
 * core free beyond the two processes of a conversation: under `cpus + 1`.
 */
import { availableParallelism, loadavg } from 'node:os';

const RECHECK_MS = 1000;

/** True when a load average of `load` on `cpus` cores leaves room for polling. */
export function coreToSpare(load: number, cpus: number): boolean {
  return load < cpus + 1;
}

let checkedAt = -Infinity;
let spare = true;
const cpus = availableParallelism();

/** `coreToSpare` for this machine now (cached for a second: this is asked after every batch). */
export function machineHasSpareCore(): boolean {
  const now = performance.now();
  if (now - checkedAt >= RECHECK_MS) {
    checkedAt = now;
    spare = coreToSpare(loadavg()[0]!, cpus);
  }
  return spare;
}
