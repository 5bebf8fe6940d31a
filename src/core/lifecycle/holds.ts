/**
 * Frames for actors that were announced but not created yet.
 *
 * `createActor` hands out an address before the actor exists, and the address
 * may reach a third actor faster than the create request reaches the hosting
 * kernel (they travel different links). Actor ids are "<creator kernel>.<seq>"
 * with seq rising per creator, and a creator's create requests to one kernel
 * arrive in order. So for an unknown id whose seq is above the highest seq this
 * kernel has seen created by that creator, the create is still on its way:
 * hold the frame. Otherwise the actor is gone (or was never here): dead letter.
 */
import type { Frame } from '../protocol.js';

export class Holds {
  private readonly maxSeq = new Map<string, number>();
  private readonly held = new Map<string, Frame[]>();

  /** `ownKernel`: ids this kernel made are created synchronously, so never pending. */
  constructor(private readonly ownKernel: string) {}

  /** True when the frame was held for a creation still on its way. */
  holdIfPending(id: string, frame: Frame): boolean {
    const parsed = parseActorId(id);
    if (!parsed || parsed.creator === this.ownKernel) return false;
    const seen = this.maxSeq.get(parsed.creator) ?? 0;
    if (parsed.seq <= seen) return false;
    const list = this.held.get(id);
    if (list) list.push(frame);
    else this.held.set(id, [frame]);
    return true;
  }

  /**
   * A create for `id` arrived: returns the frames held for it, and the frames
   * held for earlier ids of the same creator that can now never be created here.
   */
  created(id: string): { replay: Frame[]; orphaned: Frame[] } {
    const parsed = parseActorId(id);
    const replay = this.held.get(id) ?? [];
    this.held.delete(id);
    const orphaned: Frame[] = [];
    if (parsed) {
      if (parsed.seq > (this.maxSeq.get(parsed.creator) ?? 0)) this.maxSeq.set(parsed.creator, parsed.seq);
      if (this.held.size > 0) {
        for (const [other, frames] of this.held) {
          const o = parseActorId(other);
          if (o && o.creator === parsed.creator && o.seq < parsed.seq) {
            orphaned.push(...frames);
            this.held.delete(other);
          }
        }
      }
    }
    return { replay, orphaned };
  }

  /** Creator kernels died (those `gone` says yes to): nothing more will be created by them. */
  creatorGone(gone: (kernelId: string) => boolean): Frame[] {
    const out: Frame[] = [];
    for (const [id, frames] of this.held) {
      const creator = parseActorId(id)?.creator;
      if (creator !== undefined && gone(creator)) {
        out.push(...frames);
        this.held.delete(id);
      }
    }
    for (const creator of [...this.maxSeq.keys()]) if (gone(creator)) this.maxSeq.delete(creator);
    return out;
  }

  get size(): number {
    let n = 0;
    for (const frames of this.held.values()) n += frames.length;
    return n;
  }
}

export function parseActorId(id: string): { creator: string; seq: number } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0 || id.includes('/')) return undefined;
  const seq = Number(id.slice(dot + 1));
  return Number.isInteger(seq) && seq > 0 ? { creator: id.slice(0, dot), seq } : undefined;
}
