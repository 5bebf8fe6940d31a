/**
 * A process kept forked ahead of need by the forkserver zygote, so that
 * starting a process actor does not wait for a fork.
 *
 * Most of a forked start is not the fork: the new child's first run of each
 * code path pays again for what V8 and Node keep per process and had warm in
 * the zygote only in shared pages (every first write to one faults and copies
 * it; the module loader's caches; libuv's thread pool, which does not survive
 * a fork). A spare pays that before anyone needs it: forked with its link to
 * the system already up, it runs the warm-up (zygote-warmup.ts) in its own
 * memory, says it is ready, and waits for a boot record (what kernel to be).
 * Android's zygote keeps unspecialised processes ready for the same reason.
 * Measured (create to first reply, one create every 50 ms): ~12 ms → ~7 ms.
 *
 * One spare is kept, once the forkserver zygote runs; it costs an idle
 * process (no CPU) while it waits, and a new one is forked as soon as it is
 * taken. Creates that come faster than spares warm up take the plain fork.
 * `fork` startups cannot use one: their children inherit the actor's module,
 * imported before the fork.
 */
import { DEFAULT_LIMITS } from '../transport/codec.js';
import { envelopeFdCount } from '../transport/envelope.js';
import { FdLink } from '../transport/fd-link.js';
import { requireNative } from '../native.js';
import { SPARE_READY } from './process-protocol.js';
import type { Zygote } from './zygote-client.js';

export interface Spare {
  pid: number;
  /** Its link, up since the fork; whoever takes the spare sets the handlers. */
  stream: FdLink;
}

export class SpareProcess {
  /** The spare being forked or warming up, or ready; null once taken. */
  private current: { spare: Spare | null; warm: boolean } | null = null;
  private closed = false;

  /** The spare, if one is ready (it is the caller's from now on). */
  take(): Spare | null {
    const current = this.current;
    if (current === null || !current.warm || current.spare === null) return null;
    this.current = null;
    return current.spare;
  }

  /** Fork a spare from `zygote` unless one is ready or on its way. */
  fill(zygote: Zygote): void {
    if (this.current !== null || this.closed) return;
    const current: { spare: Spare | null; warm: boolean } = { spare: null, warm: false };
    this.current = current;
    const [mine, theirs] = requireNative('spare processes').socketPair();
    const stream = new FdLink(mine, DEFAULT_LIMITS.maxFrameBytes, (record) => (record.length === 0 ? 0 : envelopeFdCount(record)), {
      // A spare says it is warm, then nothing until it is booted: anything else is not our code.
      onRecord: (record) => {
        if (record.length !== SPARE_READY.length || current.warm) stream.destroy(new Error('a spare process spoke out of turn'));
        else current.warm = true;
      },
      onClosed: () => {
        if (this.current !== current) return;
        this.current = null;
        // It died waiting (killed, say): fork another, unless the fork itself failed.
        if (current.spare !== null) this.fill(zygote);
      },
    });
    zygote.fork(undefined, theirs).then(
      (pid) => {
        current.spare = { pid, stream };
        if (this.closed) stream.destroy(new Error('stopping'));
      },
      (error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** No more spares; the one waiting leaves (its link ends). */
  close(): void {
    this.closed = true;
    const current = this.current;
    this.current = null;
    current?.spare?.stream.destroy(new Error('stopping'));
  }
}
