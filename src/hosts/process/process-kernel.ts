/**
 * The kernel of one child process, however it started (spawned, or forked
 * from a zygote). Its only link is a Unix socket to the system's process,
 * which routes: every frame leaves on a channel to its destination kernel,
 * and every channel's envelopes travel through that one socket.
 *
 * The process exists for the actor it was started for (and that actor's
 * children placed inline); once no actor is left it asks the system to
 * retire it, and leaves when the system ends the link. Whatever reaches it
 * until then is still handled (mail for its dead actor becomes dead letters),
 * so nothing in flight is lost. When the link ends for any reason (the system
 * stopped, or its process died, even by SIGKILL) the process leaves: no
 * child outlives the system.
 */
import { connect } from 'node:net';
import { ActorAddress } from '../../address.js';
import { Kernel, type KernelHost, type PlacementRequest } from '../../core/kernel.js';
import type { LogRecord } from '../../core/log.js';
import { DEFAULT_ROUTE, systemOf } from '../../core/flow/flow.js';
import { foreignFrameProblem, type ForeignPeer } from '../../net/foreign.js';
import { FrameKind, type ControlOp, type Frame } from '../../core/protocol.js';
import { Channel } from '../../transport/channel.js';
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { envelopeFdCount, openEnvelope, type Envelope } from '../../transport/envelope.js';
import { FdLink, closeAll, type RecordLink, type RecordLinkHandlers } from '../../transport/fd-link.js';
import { StreamLink } from '../../transport/stream-link.js';
import { HostBasics } from '../host-basics.js';
import { refuseFrame } from '../refusal.js';
import { doneWith, isPooled } from '../../transport/buffer-pool.js';
import { PeerLinks, isMarker, type PeerLinksHost } from './peer-links.js';
import { helloRecord, type ProcessBoot } from './process-protocol.js';
import { requestProcessKernel } from './process-ids.js';

/**
 * A process kernel polls its links this long after a batch before sleeping
 * (fd-link.ts): actors in conversation across processes then answer each
 * other without paying a wake-up per message.
 */
const LINK_SPIN_US = 50;

class ProcessKernelHost extends HostBasics implements KernelHost, PeerLinksHost {
  kernel!: Kernel;
  private readonly channels = new Map<string, Channel>();
  private readonly dead = new Set<string>();
  private retiring = false;

  private readonly peers = new PeerLinks(this, LINK_SPIN_US);

  constructor(
    private readonly boot: ProcessBoot,
    readonly hub: RecordLink,
  ) {
    super();
  }

  get self(): string {
    return this.boot.kernelId;
  }

  sendFrame(kernelId: string, frame: Frame): boolean {
    // The channel of the previous send is never a dead kernel's (kernelDown drops it from the cache).
    const last = this.lastChannel;
    if (last !== null && kernelId === this.lastKernelId) {
      last.send(frame);
      return true;
    }
    if (this.dead.has(kernelId)) return false;
    this.channel(kernelId).send(frame);
    return true;
  }

  place(request: PlacementRequest): string {
    const host = request.options.host;
    if (host === 'inline' || host === 'worker' || (host === undefined && !this.boot.processPerActor)) return this.boot.kernelId;
    return requestProcessKernel(request, this.boot.kernelId, this.boot.startup, (frame) => this.sendFrame(this.boot.mainKernelId, frame));
  }

  log(record: LogRecord): void {
    this.kernel.admin({ op: 'log', record });
  }

  uncounted(): void {
    // After the frames of this turn (the parent's ChildActorExited) are queued.
    setImmediate(() => {
      if (this.retiring || this.kernel.status().actors > 0 || this.kernel.holds.size > 0) return;
      this.retiring = true;
      this.toMain({ op: 'retire', kernelId: this.boot.kernelId });
    });
  }

  onControl(op: ControlOp): void {
    if (op.op === 'kernelDown') this.kernelDown(op.kernelId, op.drain === true);
    else if (op.op === 'drained') {
      // Retiring (see ControlOp 'retire'): what peers sent on direct links is
      // read once they have ended them; then nothing is left on the way.
      void this.peers.closeAll().then(() => this.toMain({ op: 'retired', kernelId: this.boot.kernelId }));
    }
  }

  /**
   * Only kernels this one has talked to need remembering (bounded by its
   * channels): frames to any other dead kernel go to the system's process,
   * which turns them into dead letters. A kernel that retires (`drain`) gets
   * what is still queued for it, and will handle it; for one that died, it
   * becomes dead letters here.
   */
  private kernelDown(kernelId: string, drain: boolean): void {
    const channel = this.channels.get(kernelId);
    if (channel !== undefined) {
      if (drain) channel.flush();
      else for (const frame of channel.takeQueued()) this.kernel.undeliverable(frame);
      this.channels.delete(kernelId);
      this.lastChannel = null;
      this.dead.add(kernelId);
    }
    this.peers.down(kernelId);
    if (drain) this.toMain({ op: 'downSeen', kernelId });
  }

  private toMain(op: ControlOp): void {
    this.sendFrame(this.boot.mainKernelId, [FrameKind.Control, op]);
  }

  /** A record on the link to the system's process. */
  received(record: Uint8Array, fds: number[]): void {
    const envelope = openEnvelope(record);
    if (envelope === null || envelope.destination !== this.boot.kernelId) {
      closeAll(fds);
      this.warn('a record on the link is not an envelope for this kernel; dropped');
      return;
    }
    if (isMarker(envelope)) this.peers.fromHub(envelope, fds);
    else this.deliver(envelope, fds);
  }

  /**
   * An envelope of frames for this kernel (through the hub or on a direct
   * link); false when its batch breaks the protocol (it is dropped, and the
   * sender reported to the system's process, which kills it).
   */
  deliver(envelope: Envelope, fds: number[]): boolean {
    let frames: Frame[];
    const channel = this.channel(envelope.source);
    try {
      frames = channel.receive(envelope.payload, fds, true, isPooled(envelope.payload.buffer));
    } catch (error) {
      this.channels.delete(envelope.source);
      this.lastChannel = null;
      this.warn(`bad batch from ${envelope.source}; dropped`, error);
      this.peerBroke(envelope.source, `a bad batch: ${String(error)}`);
      return false;
    }
    if (!channel.tookViews) doneWith(envelope.payload);
    const foreign = this.foreignPeer(envelope.source);
    for (const frame of frames) {
      if (foreign !== null) {
        // From another system (passed on undecoded by the system's process).
        const problem = foreignFrameProblem(frame, foreign);
        if (problem !== null) this.warn(`${envelope.source} sent ${problem}; dropped`);
        else this.kernel.receiveFrame(frame);
      } else if (frame[0] === FrameKind.Control && envelope.source !== this.boot.mainKernelId && !isFlowNotice(frame[1])) {
        // Housekeeping comes from the system's process only, never from a
        // peer; flow notices are the exception (they only pause our senders).
        this.warn(`a control frame from ${envelope.source}, which may not send one; dropped`);
      } else this.kernel.receiveFrame(frame);
    }
    return true;
  }

  /** Another process sent bytes that break the protocol: the system's process, which forwarded them or introduced us, deals with it. */
  peerBroke(kernelId: string, reason: string): void {
    if (kernelId !== this.boot.mainKernelId) this.toMain({ op: 'peerBroke', kernelId, reason });
  }

  /** The rules for frames from `source` when it is a kernel of another system, else null. */
  private foreignPeer(source: string): ForeignPeer | null {
    const system = systemOf(source);
    const self = systemOf(this.boot.kernelId);
    if (system === self) return null;
    return { system, self, selfKernel: this.boot.mainKernelId, adminId: this.boot.admin.id };
  }

  flushChannel(kernelId: string): void {
    this.channels.get(kernelId)?.flush();
  }

  linkCongestion(scope: string, congested: boolean): void {
    if (congested) this.kernel.flow.congestion.congested(scope);
    else this.kernel.flow.congestion.relieved(scope);
  }

  routesDirect(kernelId: string): boolean {
    return this.peers.linkTo(kernelId) !== this.hub;
  }

  pendingInLinks(): number {
    let n = this.hub.queuedRecords + this.peers.queuedRecords();
    for (const channel of this.channels.values()) n += channel.queued;
    return n;
  }

  /**
   * Most sends go where the previous one went (a stream to one actor), with
   * the same string: `to.kernel` of one address. Kept as the caller gave it,
   * it matches by identity; the channel's own copy of the id is another
   * string, which cost a compare of its characters a message (with the
   * `dead` lookup: 5% of a sending process's time).
   */
  private lastChannel: Channel | null = null;
  private lastKernelId: string | null = null;

  private channel(kernelId: string): Channel {
    const last = this.lastChannel;
    if (last !== null && kernelId === this.lastKernelId) return last;
    let channel = this.channels.get(kernelId);
    if (channel === undefined) {
      channel = new Channel(kernelId, this.boot.kernelId, (envelope, fds, recycle) => this.peers.linkTo(kernelId).write(envelope, fds, recycle));
      channel.onDropped = (count, error) => this.warn(`${count} frame(s) to ${kernelId} could not be encoded; dropped`, error);
      channel.onRefused = (frame, error) => refuseFrame(this.kernel, frame, error);
      this.channels.set(kernelId, channel);
    }
    this.lastChannel = channel;
    this.lastKernelId = kernelId;
    return channel;
  }

  warn(message: string, error?: unknown): void {
    this.log({ level: 'warn', message, source: this.boot.kernelId, time: Date.now(), detail: error === undefined ? undefined : String(error) });
  }
}

function isFlowNotice(op: ControlOp): boolean {
  return (op.op === 'congested' || op.op === 'relieved') && op.fanOut !== true;
}

/** An fd link to the system's process on `fd` (a socket pair end), as process kernels use them. */
export function processFdLink(fd: number, handlers: RecordLinkHandlers): FdLink {
  return new FdLink(fd, DEFAULT_LIMITS.maxFrameBytes, envelopeFdCount, handlers, LINK_SPIN_US);
}

/**
 * The link to the system's process that `boot` names (the inherited socket
 * `linkFd`, or a connection to the system's socket path), or `existing` (a
 * spare's, already open), opened with a hello: it tells the system the
 * process runs (and, on a connection, who it is).
 */
export function openProcessLink(boot: ProcessBoot, handlers: RecordLinkHandlers, existing?: RecordLink): RecordLink {
  let link: RecordLink;
  if (existing !== undefined) {
    link = existing;
    link.handlers = handlers;
  } else if (boot.linkFd !== undefined) link = processFdLink(boot.linkFd, handlers);
  else link = new StreamLink(connect(boot.socketPath!), DEFAULT_LIMITS.maxFrameBytes, handlers);
  link.write(helloRecord({ kernelId: boot.kernelId, token: boot.token ?? '' }, boot.mainKernelId));
  return link;
}

/**
 * Runs this process's kernel on the link `boot` names (or `existing`).
 * `leave` ends the process: process.exit when spawned, the addon's exitNow
 * when forked.
 */
export function runProcessKernel(boot: ProcessBoot, leave: (code: number) => void, existing?: RecordLink): void {
  let host: ProcessKernelHost | undefined;
  const link = openProcessLink(
    boot,
    {
      onRecord: (record, fds) => host!.received(record, fds),
      onClosed: () => {
        host!.kernel.close();
        leave(0);
      },
    },
    existing,
  );
  host = new ProcessKernelHost(boot, link);
  host.kernel = new Kernel(boot.kernelId, host, new ActorAddress(boot.admin.kernel, boot.admin.id), boot.capabilities);
  link.onCongestion = (congested) => host!.linkCongestion(DEFAULT_ROUTE, congested);
}
