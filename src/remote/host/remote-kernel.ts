/**
 * The kernel of a remote host and what it lives in: one link to its parent
 * (its stdin and stdout), links to the hosts started through it (`via`), and
 * a channel per kernel it talks to. Envelopes for itself are decoded here;
 * envelopes for a host behind it go down that host's link as they came, and
 * envelopes from below for anyone else go up, without decoding (the channel
 * state lives at the two ends). From below, only envelopes whose source lies
 * behind that link are accepted; a child that claims another source, or
 * breaks framing, loses its link.
 *
 * Every actor created on this host runs in this kernel.
 */
import { ActorAddress } from '../../address.js';
import { Kernel, type KernelHost, type PlacementRequest } from '../../core/kernel.js';
import type { LogRecord } from '../../core/log.js';
import { FrameKind, type ControlOp, type Frame } from '../../core/protocol.js';
import type { ActorClass, SpecRef } from '../../core/spec.js';
import { HostBasics } from '../../hosts/host-basics.js';
import { Channel } from '../../transport/channel.js';
import { openEnvelope, type Envelope } from '../../transport/envelope.js';
import type { RecordLink } from '../../transport/fd-link.js';
import { ChildHosts, type ChildLink } from '../child-hosts.js';
import { agentId, type RemoteBoot } from '../protocol.js';
import { servedUrl } from '../forwarded-modules.js';

export class RemoteKernelHost extends HostBasics implements KernelHost {
  kernel!: Kernel;
  readonly children = new ChildHosts();
  private readonly channels = new Map<string, Channel>();
  private lastChannel: Channel | null = null;
  /** Kernels known dead (frames to them fail at once). */
  private readonly dead = new Set<string>();

  constructor(
    readonly boot: RemoteBoot,
    readonly parent: RecordLink,
  ) {
    super();
  }

  get self(): string {
    return this.boot.kernelId;
  }

  sendFrame(kernelId: string, frame: Frame): boolean {
    if (this.dead.has(kernelId)) return false;
    this.channel(kernelId).send(frame);
    return true;
  }

  place(_request: PlacementRequest): string {
    return this.boot.kernelId;
  }

  override loadClass(ref: SpecRef): ActorClass | Promise<ActorClass> {
    return super.loadClass({ ...ref, module: servedUrl(ref.module) });
  }

  log(record: LogRecord): void {
    this.kernel.admin({ op: 'log', record: { ...record, host: this.boot.name } });
  }

  onControl(op: ControlOp): void {
    if (op.op === 'kernelDown') this.forgetKernel(op.kernelId);
  }

  forgetKernel(kernelId: string): void {
    const channel = this.channels.get(kernelId);
    if (channel !== undefined) {
      for (const frame of channel.takeQueued()) this.kernel.undeliverable(frame);
      this.channels.delete(kernelId);
      this.lastChannel = null;
    }
    this.dead.add(kernelId);
  }

  // ---- envelopes -------------------------------------------------------------

  /** A record from the parent: for this kernel, or for a host behind it. */
  fromParent(record: Uint8Array): void {
    const envelope = openEnvelope(record);
    if (envelope === null) {
      this.warn('a record from the parent is not an envelope; dropped');
      return;
    }
    if (envelope.destination === this.self) return this.deliver(envelope);
    const link = this.children.route(envelope.destination);
    if (link !== undefined) link.write(record);
    else this.warn(`an envelope for ${envelope.destination}, which is not behind this host, was dropped`);
  }

  /** A record from a host this one started: checked, then delivered, passed down, or passed up. */
  fromChild(link: ChildLink, record: Uint8Array): void {
    const envelope = openEnvelope(record);
    if (envelope === null) return this.broken(link, 'a record that is not an envelope');
    if (!link.behind.has(envelope.source)) return this.broken(link, `an envelope claiming source ${envelope.source}, which is not behind it`);
    if (envelope.destination === this.self) return this.deliver(envelope);
    const down = this.children.route(envelope.destination);
    if (down !== undefined && down !== link) down.write(record);
    else this.parent.write(record);
  }

  /** Ends a child's link: it broke the protocol. */
  broken(link: ChildLink, what: string): void {
    this.warn(`host ${link.kernelId} sent ${what}; closing its link`);
    link.stream.destroy(new Error(what));
  }

  private deliver(envelope: Envelope): void {
    let frames: Frame[];
    try {
      frames = this.channel(envelope.source).receive(envelope.payload);
    } catch (error) {
      this.channels.delete(envelope.source);
      this.lastChannel = null;
      this.warn(`bad batch from ${envelope.source}; dropped`, error);
      return;
    }
    const agent = agentId(this.self);
    for (const frame of frames) {
      if ((frame[0] === FrameKind.Control || frame[0] === FrameKind.Create) && envelope.source !== this.boot.mainKernelId) {
        // Only the system steers this kernel and decides what runs on it.
        this.warn(`a ${frame[0] === FrameKind.Create ? 'create' : 'control'} frame from ${envelope.source}, which may not send one; dropped`);
      } else if (frame[0] === FrameKind.Message && frame[1].id === agent && frame[2]?.kernel !== envelope.source) {
        this.warn(`a request to this host's agent from ${envelope.source} claiming to be ${String(frame[2])}; dropped`);
      } else this.kernel.receiveFrame(frame);
    }
  }

  private channel(kernelId: string): Channel {
    const last = this.lastChannel;
    if (last !== null && last.peer === kernelId) return last;
    let channel = this.channels.get(kernelId);
    if (channel === undefined) {
      channel = new Channel(kernelId, this.self, (envelope) => (this.children.route(kernelId) ?? this.parent).write(envelope));
      channel.onDropped = (count, error) => this.warn(`${count} frame(s) to ${kernelId} could not be encoded; dropped`, error);
      this.channels.set(kernelId, channel);
    }
    this.lastChannel = channel;
    return channel;
  }

  warn(message: string, error?: unknown): void {
    this.log({ level: 'warn', message, source: this.self, time: Date.now(), detail: error === undefined ? undefined : String(error) });
  }
}

/** The kernel of this remote host on `parent`. */
export function makeRemoteKernel(boot: RemoteBoot, parent: RecordLink): RemoteKernelHost {
  const host = new RemoteKernelHost(boot, parent);
  host.kernel = new Kernel(boot.kernelId, host, new ActorAddress(boot.admin.kernel, boot.admin.id), boot.capabilities);
  return host;
}
