/**
 * Which link leads to which kernel. A kernel with no direct link goes through
 * the default route (a worker's link to the main thread), and a kernel that is
 * still starting has its frames held until its link is up.
 *
 * Flow control (core/flow/flow.ts): the router hears when a link crosses its
 * water marks and tells its kernel, so senders to the kernels behind that link
 * pause. Frames it forwards for others (`forward`) into a congested link make
 * it tell the kernel that handed them over, once, and again when it drains.
 */
import { DEFAULT_ROUTE, type Congestion } from '../core/flow/flow.js';
import type { Kernel } from '../core/kernel.js';
import { FrameKind, type Frame } from '../core/protocol.js';
import { openHandles } from '../transport/handles.js';
import { refuseFrame } from './refusal.js';
import type { Link } from '../transport/link.js';
import { ThreadLink, type RingPair } from '../transport/thread-link.js';

export class Router {
  private readonly links = new Map<string, Link>();
  private readonly starting = new Map<string, Array<[string, Frame]>>();
  private fallback: Link | null = null;
  /** The kernel's record of congested scopes, fed by the links' water marks. */
  congestion: Congestion | null = null;
  /** Kernels told that a link is congested, per link: origin kernel → scopes. */
  private readonly told = new Map<Link, Map<string, Set<string>>>();
  /** Links to other systems (the system's network), for kernel ids no local link serves. */
  remote: ((kernelId: string) => Link | undefined) | null = null;
  /** Frames waiting in the links to other systems (they are not among `links`). */
  remotePending: (() => number) | null = null;

  add(kernelId: string, link: Link): void {
    this.links.set(kernelId, link);
    if (link !== this.fallback) link.onCongestion = (congested) => this.congestionChanged(link, kernelId, congested);
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
    link.onCongestion = (congested) => this.congestionChanged(link, DEFAULT_ROUTE, congested);
  }

  /** Forget a dead kernel; returns the frames it never handled (sent and unhandled, or held for it). */
  remove(kernelId: string): Frame[] {
    const link = this.links.get(kernelId);
    this.links.delete(kernelId);
    if (link !== undefined) this.congestionChanged(link, kernelId, false);
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
    const other = this.linkElsewhere(kernelId);
    if (other !== undefined) {
      other.send(kernelId, frame);
      return true;
    }
    return false;
  }

  /** The link for a kernel with no link of its own: another system's, or the default route. */
  private linkElsewhere(kernelId: string): Link | undefined {
    return this.remote?.(kernelId) ?? this.fallback ?? undefined;
  }

  /** The link a frame for `kernelId` goes into (undefined: none, or held while it starts). */
  linkFor(kernelId: string): Link | undefined {
    return this.links.get(kernelId) ?? (this.starting.has(kernelId) ? undefined : this.linkElsewhere(kernelId));
  }

  /**
   * Send a frame that `origin` (the kernel that handed it to us) sent on its
   * way; false when there is no route. If the link it went into is congested,
   * `origin` hears of it (see the file comment).
   */
  forward(kernelId: string, frame: Frame, origin: string): boolean {
    if (!this.send(kernelId, frame)) return false;
    const link = this.linkFor(kernelId);
    if (link !== undefined && link.congested === true) this.tellOrigin(link, link.scope ?? kernelId, origin);
    return true;
  }

  /** `origin` put something into `link` (towards `scope`), which is congested: say so, once per episode. */
  tellOrigin(link: Link, scope: string, origin: string): void {
    let origins = this.told.get(link);
    if (origins === undefined) this.told.set(link, (origins = new Map()));
    let scopes = origins.get(origin);
    if (scopes === undefined) origins.set(origin, (scopes = new Set()));
    if (scopes.has(scope)) return;
    scopes.add(scope);
    this.send(origin, [FrameKind.Control, { op: 'congested', scope }]);
  }

  /** A link crossed a water mark: its senders (and whoever was told it is congested) hear of it. */
  congestionChanged(link: Link, scope: string, congested: boolean): void {
    if (congested) {
      this.congestion?.congested(scope);
      return;
    }
    this.congestion?.relieved(scope);
    const origins = this.told.get(link);
    if (origins === undefined) return;
    this.told.delete(link);
    for (const [origin, scopes] of origins) {
      for (const relieved of scopes) this.send(origin, [FrameKind.Control, { op: 'relieved', scope: relieved }]);
    }
  }

  /** Whether `kernelId` has a link of its own (not the default route). */
  routesDirect(kernelId: string): boolean {
    const link = this.links.get(kernelId);
    return link !== undefined && link !== this.fallback;
  }

  /** Frames waiting in every link (status().pendingMessages). */
  pending(): number {
    let n = 0;
    for (const link of new Set(this.links.values())) n += link.pending?.() ?? 0;
    for (const held of this.starting.values()) n += held.length;
    return n + (this.remotePending?.() ?? 0);
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
      } else if (!router.forward(destination, frame, peerId)) kernel.undeliverable(frame);
    },
    (error) => log(`bad frame from ${peerId}; dropped`, error),
  );
  link.onDropped = (count, error) => log(`${count} frame(s) to ${peerId} could not be encoded; dropped`, error);
  link.onRefused = (frame, error) => refuseFrame(kernel, frame, error);
  router.add(peerId, link);
  return link;
}
