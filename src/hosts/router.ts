/**
 * Which link leads to which kernel. A kernel with no direct link goes through
 * the default route (a worker's link to the main thread), and a kernel that is
 * still starting has its frames held until its link is up.
 */
import type { Kernel } from '../core/kernel.js';
import type { Frame } from '../core/protocol.js';
import { openHandles } from '../transport/handles.js';
import { refuseFrame } from './refusal.js';
import type { Link } from '../transport/link.js';
import { ThreadLink, type RingPair } from '../transport/thread-link.js';

export class Router {
  private readonly links = new Map<string, Link>();
  private readonly starting = new Map<string, Array<[string, Frame]>>();
  private fallback: Link | null = null;

  add(kernelId: string, link: Link): void {
    this.links.set(kernelId, link);
    const held = this.starting.get(kernelId);
    this.starting.delete(kernelId);
    if (held) for (const [destination, frame] of held) link.send(destination, frame);
  }

  /** Hold frames for `kernelId` until `add` (or `remove`, which drops them). */
  expect(kernelId: string): void {
    if (!this.links.has(kernelId) && !this.starting.has(kernelId)) this.starting.set(kernelId, []);
  }

  setDefault(link: Link): void {
    this.fallback = link;
  }

  /** Forget a dead kernel; returns the frames it never handled (sent and unhandled, or held for it). */
  remove(kernelId: string): Frame[] {
    const link = this.links.get(kernelId);
    this.links.delete(kernelId);
    const lost = link?.salvage?.() ?? [];
    link?.close();
    for (const [, frame] of this.starting.get(kernelId) ?? []) lost.push(frame);
    this.starting.delete(kernelId);
    return lost;
  }

  send(kernelId: string, frame: Frame): boolean {
    const link = this.links.get(kernelId);
    if (link !== undefined) {
      link.send(kernelId, frame);
      return true;
    }
    const held = this.starting.get(kernelId);
    if (held !== undefined) {
      held.push([kernelId, frame]);
      return true;
    }
    if (this.fallback !== null) {
      this.fallback.send(kernelId, frame);
      return true;
    }
    return false;
  }

  has(kernelId: string): boolean {
    return this.links.has(kernelId) || this.starting.has(kernelId);
  }

  ids(): string[] {
    return [...this.links.keys()];
  }

  closeAll(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.starting.clear();
  }
}

/**
 * A thread link to `peerId` whose frames are for `kernel` or, when addressed
 * to another kernel, forwarded by `router` (failing as undeliverable when no
 * route is left). Registered with the router under `peerId`.
 */
export function connectThread(kernel: Kernel, router: Router, peerId: string, rings: RingPair): ThreadLink {
  const log = (message: string, error: unknown): void =>
    kernel.host.log({ level: 'error', message, source: kernel.id, time: Date.now(), detail: String(error) });
  const link = new ThreadLink(
    rings,
    { self: kernel.id, peer: peerId },
    (destination, frame, withHandles) => {
      if (destination === kernel.id) {
        if (withHandles) openHandles(frame);
        kernel.receiveFrame(frame);
      } else if (!router.send(destination, frame)) kernel.undeliverable(frame);
    },
    (error) => log(`bad frame from ${peerId}; dropped`, error),
  );
  link.onDropped = (count, error) => log(`${count} frame(s) to ${peerId} could not be encoded; dropped`, error);
  link.onRefused = (frame, error) => refuseFrame(kernel, frame, error);
  router.add(peerId, link);
  return link;
}
