/**
 * Envelopes that reach this system's main kernel from another system or a
 * client, after the link has authenticated the peer: checked, then
 *
 * - for the main kernel: decoded and delivered (a create from another system
 *   is placed again inside this one, see `placeCreate`);
 * - for a process kernel: passed on as they came, undecoded (the process
 *   holds the channel's codec state, and checks the frames itself);
 * - for a thread kernel, or a kernel of yet another system (a client asking
 *   an actor elsewhere): decoded here and re-sent on that kernel's link.
 *
 * Bytes from outside are untrusted: an envelope must come from a kernel of
 * the peer and be for this system; a batch that does not decode, or a frame
 * that speaks for someone else (foreign.ts), is dropped and logged, and the
 * peer's link stays.
 */
import { inSystem } from '../core/flow/flow.js';
import type { Kernel } from '../core/kernel.js';
import { FrameKind, type CreateRequest, type Frame } from '../core/protocol.js';
import type { Router } from '../hosts/router.js';
import { Channel } from '../transport/channel.js';
import { openEnvelope } from '../transport/envelope.js';
import { foreignFrameProblem, type ForeignPeer } from './foreign.js';

const NO_HANDLES = 'sockets do not travel between systems';

export interface InboundContext {
  readonly kernel: Kernel;
  readonly router: Router;
  /** A create another system placed here: place it again inside this system. */
  placeCreate(request: CreateRequest): void;
  log(level: 'warn' | 'error', message: string, detail?: unknown): void;
}

/** A link that passes envelopes on undecoded (a process link). */
interface Forwarding {
  forward(record: Uint8Array, fds: readonly number[]): void;
}

function forwards(link: unknown): link is Forwarding {
  return typeof (link as Partial<Forwarding> | undefined)?.forward === 'function';
}

export class Inbound {
  /** Decoding state per (source kernel, destination kernel) pair. */
  private readonly channels = new Map<string, Channel>();
  /** Frames dropped because they broke the rules (status and tests). */
  refused = 0;

  constructor(
    private readonly ctx: InboundContext,
    readonly peer: ForeignPeer,
    /** How the peer is named in logs. */
    private readonly name: () => string,
  ) {}

  /** An envelope from the peer; false when it is not one (the caller closes the connection). */
  receive(record: Uint8Array): boolean {
    const envelope = openEnvelope(record);
    if (envelope === null || envelope.fdCount !== 0) return false;
    const { source, destination } = envelope;
    const peer = this.peer;
    if (peer.clientKernel !== undefined ? source !== peer.clientKernel : !inSystem(source, peer.system)) {
      this.refuse(`an envelope claiming to come from ${source}`);
      return true;
    }
    if (peer.clientKernel === undefined && !inSystem(destination, peer.self)) {
      this.refuse(`an envelope for ${destination}, a kernel of another system`);
      return true;
    }
    const router = this.ctx.router;
    if (destination !== peer.selfKernel) {
      const link = router.linkFor(destination);
      if (link === undefined) {
        this.refuse(`an envelope for ${destination}, which does not exist (any more)`, 'warn');
        return true;
      }
      // Clients' frames are always checked here; another system's, for a
      // process, by the process itself (it decodes them).
      if (forwards(link) && peer.clientKernel === undefined && inSystem(destination, peer.self)) {
        link.forward(record, []);
        return true;
      }
    }
    const key = `${source}>${destination}`;
    let channel = this.channels.get(key);
    if (channel === undefined) {
      channel = new Channel(source, destination, () => undefined, {}, NO_HANDLES);
      this.channels.set(key, channel);
    }
    let frames: Frame[];
    try {
      frames = channel.receive(envelope.payload, [], destination === peer.selfKernel);
    } catch (error) {
      // The channel's codec state may now be out of step: start it afresh.
      this.channels.delete(key);
      this.refuse('a batch that could not be read', 'error', error);
      return true;
    }
    for (const frame of frames) this.take(frame, source, destination);
    return true;
  }

  /** The peer's session restarted, or one of its kernels is gone: forget decoding state. */
  reset(sourceKernel?: string): void {
    if (sourceKernel === undefined) this.channels.clear();
    else for (const key of [...this.channels.keys()]) if (key.startsWith(`${sourceKernel}>`)) this.channels.delete(key);
  }

  private take(frame: Frame, source: string, destination: string): void {
    const problem = foreignFrameProblem(frame, this.peer);
    if (problem !== null) {
      this.refuse(problem);
      return;
    }
    const ctx = this.ctx;
    if (destination !== this.peer.selfKernel) {
      if (!ctx.router.forward(destination, frame, source)) ctx.kernel.undeliverable(frame);
    } else if (frame[0] === FrameKind.Create) {
      ctx.placeCreate(frame[1]);
    } else {
      ctx.kernel.receiveFrame(frame);
    }
  }

  private refuse(what: string, level: 'warn' | 'error' = 'error', detail?: unknown): void {
    this.refused++;
    this.ctx.log(level, `${this.name()} sent ${what}; dropped`, detail === undefined ? undefined : String(detail));
  }
}
