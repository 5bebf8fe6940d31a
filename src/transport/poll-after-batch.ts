/**
 * Polling after a batch, for a link that the event loop wakes (fd-link.ts,
 * and the remote hosts' stdio-link.ts): records just came, so the peer is
 * likely to answer what we send back; once this turn's replies are out
 * (microtasks run before immediates), the link polls its descriptor for a
 * while before it goes back to sleep, and a conversation pays no wake-ups.
 * How long is the adaptive budget of ring-spin.ts, tuned by how long each
 * sleep lasted; `mayPoll` can forbid it (no core to spare, say).
 */
import { AdaptiveSpin } from './ring/ring-spin.js';

export class PollAfterBatch {
  private readonly spin: AdaptiveSpin;
  private queued = false;
  /** When the link last went to sleep after a batch (0: not since it last woke). */
  private sleptAt = 0;
  private readonly runBound = (): void => this.run();

  constructor(
    maxUs: number,
    /**
     * One read of the link; true when something came. It handles what came,
     * and calls `afterBatch` for it (which queues the next poll).
     */
    private readonly poll: () => boolean,
    private readonly mayPoll: () => boolean,
    private readonly closed: () => boolean,
  ) {
    this.spin = new AdaptiveSpin(maxUs);
  }

  /** The event loop woke the link: how long it slept tunes the budget. */
  woke(): void {
    if (this.sleptAt === 0) return;
    this.spin.slept((performance.now() - this.sleptAt) * 1000);
    this.sleptAt = 0;
  }

  /** A batch came and was handled; `worth` false (a transfer's chunk, say): no poll after it. */
  afterBatch(worth = true): void {
    if (this.closed()) return;
    if (worth && this.spin.budgetUs > 0 && this.mayPoll()) {
      if (!this.queued) {
        this.queued = true;
        setImmediate(this.runBound);
      }
    } else this.sleptAt = performance.now();
  }

  private run(): void {
    this.queued = false;
    if (this.closed()) return;
    if (!this.spin.spinUntil(this.poll)) this.sleptAt = performance.now();
  }
}
