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
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { envelopeFdCount } from '../../transport/envelope.js';
import { FdLink } from '../../transport/fd-link.js';
import { requireNative } from '../../native.js';
import { SPARE_READY } from './process-protocol.js';
import type { Zygote } from './zygote-client.js';

export interface Spare {
  pid: number;
  /** Its link, up since the fork; whoever takes the spare sets the handlers. */
  stream: FdLink;
}

interface Entry {
  spare: Spare | null;
  warm: boolean;
}

export class SpareProcesses {
  /** Spares being forked, warming up, or ready, oldest first. */
  private readonly entries: Entry[] = [];
  private closed = false;

  constructor(
    private readonly count: number,
    /** Told when a spare is warm and ready to be taken (for the log). */
    private readonly onReady: (pid: number) => void = () => undefined,
  ) {}

  /** A spare, if one is ready (it is the caller's from now on). */
  take(): Spare | null {
    const i = this.entries.findIndex((entry) => entry.warm && entry.spare !== null);
    if (i < 0) return null;
    return this.entries.splice(i, 1)[0]!.spare;
  }

  /** Fork spares from `zygote` until `count` are ready or on their way. */
  fill(zygote: Zygote): void {
    while (this.entries.length < this.count && !this.closed) this.forkOne(zygote);
  }

  private forkOne(zygote: Zygote): void {
    const entry: Entry = { spare: null, warm: false };
    this.entries.push(entry);
    const [mine, theirs] = requireNative('spare processes').socketPair();
    const stream = new FdLink(mine, DEFAULT_LIMITS.maxFrameBytes, (record) => (record.length === 0 ? 0 : envelopeFdCount(record)), {
      // A spare says it is warm, then nothing until it is booted: anything else is not our code.
      onRecord: (record) => {
        if (record.length !== SPARE_READY.length || entry.warm) return stream.destroy(new Error('a spare process spoke out of turn'));
        entry.warm = true;
        if (entry.spare !== null) this.onReady(entry.spare.pid);
      },
      onClosed: () => {
        const i = this.entries.indexOf(entry);
        if (i < 0) return; // taken
        this.entries.splice(i, 1);
        // It died waiting (killed, say): fork another, unless the fork itself failed.
        if (entry.spare !== null) this.fill(zygote);
      },
    });
    zygote.fork(undefined, theirs).then(
      (pid) => {
        entry.spare = { pid, stream };
        if (this.closed) stream.destroy(new Error('stopping'));
        else if (entry.warm) this.onReady(pid);
      },
      (error: unknown) => stream.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** No more spares; those waiting leave (their links end). */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.splice(0)) entry.spare?.stream.destroy(new Error('stopping'));
  }
}
