/**
 * The kernel send buffer of a process link's socket (fd-link.ts): wide while
 * large records are on their way, the system's default otherwise.
 *
 * Why wide. A Unix stream socket holds only its send buffer between the two
 * processes (208 KiB by default, less than one large record), so a 1 MiB
 * record crossed in five or more hand-offs, each waking both processes, and
 * on a busy machine each waiting for a core: 1 MiB messages moved at a third
 * of a raw socket's speed. With a few MiB they cross in one.
 *
 * Why only then. What sits in the kernel is outside the link's flow control
 * (its queuedBytes), so a stream of small messages to a slow receiver could
 * pile up megabytes there before its senders are paused (flow-control tests).
 * So the buffer is widened when a large record is queued, and narrowed when a
 * small one is queued with no large one still waiting in the link: a stream
 * of large records keeps it wide (narrowing between them cost a tenth of the
 * throughput), and the first small message after them has it narrow, so it
 * and those after it wait in the link, counted, while the kernel holds more
 * than the default.
 */
import type { NativeAddon } from '../native.js';

/** The send buffer while large records are on their way (Linux grants up to twice net.core.wmem_max). */
const WIDE_BYTES = 4 * 1024 * 1024;
/** A record this large widens it. */
const WIDE_RECORD_BYTES = 256 * 1024;

export class SendBuffer {
  /** The buffer before widening (as the kernel counts it), while wide; 0 otherwise. */
  private narrowBytes = 0;

  constructor(
    private readonly addon: NativeAddon,
    private readonly fd: number,
  ) {}

  /** A record of `bytes` was queued on the link, behind `waitingBytes` not yet in the kernel. */
  queued(bytes: number, waitingBytes: number): void {
    if (bytes >= WIDE_RECORD_BYTES) {
      if (this.narrowBytes === 0) this.widen();
    } else if (this.narrowBytes !== 0 && waitingBytes < WIDE_RECORD_BYTES) this.narrow();
  }

  private widen(): void {
    try {
      // Linux doubles what is asked (for its bookkeeping): ask for half.
      this.narrowBytes = this.addon.setSendBuffer(this.fd, WIDE_BYTES / 2);
    } catch {
      this.narrowBytes = 0; // the default stays: slower for large records, never wrong
    }
  }

  private narrow(): void {
    const bytes = this.narrowBytes;
    this.narrowBytes = 0;
    try {
      this.addon.setSendBuffer(this.fd, bytes / 2);
    } catch {
      // Only a socket being closed cannot be set.
    }
  }
}
