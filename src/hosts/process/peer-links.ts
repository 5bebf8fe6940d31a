/**
 * Direct links between two process kernels that talk a lot.
 *
 * Every process starts with one link, to the system's process, which
 * forwards envelopes between processes. That costs each message two hops
 * and, when the hub is idle, a wake-up per hop: a ping-pong between two
 * process actors paid four wake-ups per round trip. Once the hub has
 * forwarded enough between two processes it introduces them: it makes a
 * socket pair and gives each process one end. From then on their envelopes
 * go straight to each other, and both ends poll a little after each batch
 * (fd-link.ts), so an exchange in progress pays no wake-ups at all.
 *
 * Markers are envelopes with an empty payload (a channel never sends one):
 * - hub → A, from B, with one descriptor: "here is your direct link to B";
 * - A → (hub) → B, no descriptor: "after this, my envelopes to you come
 *   direct". A sends it as soon as it has the link, after flushing what its
 *   channel to B still held, then sends direct.
 *
 * Order. A channel's envelopes must arrive in the order they were sealed
 * (its codec state depends on it, see transport/channel.ts). So B holds what
 * comes on the direct link from A until A's marker arrives through the hub:
 * everything A sent through the hub before switching is ahead of that marker.
 *
 * Endings. A link is only ever ended by the side that stops sending on it:
 * when B is gone or retires, A hears `kernelDown` from the hub, flushes and
 * ends its side; a retiring B reads to the end of each link before it leaves
 * (ControlOp 'retire' in core/protocol.ts), so nothing sent is lost unread.
 *
 * Trust. A direct link is checked like the hub link: every envelope on it
 * must come from the peer and be for this kernel, its batch must decode,
 * and its framing and descriptors must hold (fd-link.ts). A peer that breaks
 * any of it loses the link here and is reported to the system's process,
 * which kills it (ControlOp 'peerBroke'). A process can only ever speak as
 * itself on a direct link, as through the hub.
 */
import { CodecError } from '../../errors.js';
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { envelopeFdCount, envelopeHeader, openEnvelope, sealEnvelope, type Envelope } from '../../transport/envelope.js';
import { FdLink, closeAll, type RecordLink } from '../../transport/fd-link.js';

const EMPTY = new Uint8Array(0);
/** How long a retiring process waits for its peers to end their sides of direct links. */
const CLOSE_TIMEOUT_MS = 2000;

/** A marker envelope from `source` to `destination` (see the file comment). */
export function markerRecord(destination: string, source: string, fdCount: number): Uint8Array {
  return sealEnvelope(envelopeHeader(destination, source), EMPTY, fdCount);
}

/** Whether `envelope` is a marker rather than a batch of frames. */
export function isMarker(envelope: Envelope): boolean {
  return envelope.payload.length === 0;
}

interface Peer {
  readonly id: string;
  readonly link: FdLink;
  /** Our envelopes to the peer go on the direct link. */
  sending: boolean;
  /** The peer's marker came through the hub: what comes direct is delivered at once. */
  receiving: boolean;
  /** What came direct before that marker, in order. */
  held: Array<[Uint8Array, number[]]>;
  open: boolean;
  /** Ending on purpose: errors on the way are not worth a warning. */
  quiet: boolean;
}

export interface PeerLinksHost {
  /** This kernel's id. */
  readonly self: string;
  /** The link to the system's process. */
  readonly hub: RecordLink;
  /** Send now whatever the channel to `kernelId` has queued (it must leave before the marker). */
  flushChannel(kernelId: string): void;
  /** Flow control: the direct link to `kernelId` crossed a water mark. */
  linkCongestion(kernelId: string, congested: boolean): void;
  /** An envelope of frames for this kernel, from a peer; false when its batch breaks the protocol. */
  deliver(envelope: Envelope, fds: number[]): boolean;
  /** `kernelId` broke the protocol: tell the system's process. */
  peerBroke(kernelId: string, reason: string): void;
  warn(message: string, error?: unknown): void;
}

export class PeerLinks {
  private readonly peers = new Map<string, Peer>();

  constructor(
    private readonly host: PeerLinksHost,
    private readonly spinUs: number,
  ) {}

  /** The link that envelopes for `kernelId` take. */
  linkTo(kernelId: string): RecordLink {
    const peer = this.peers.get(kernelId);
    return peer !== undefined && peer.sending ? peer.link : this.host.hub;
  }

  /** Records queued on direct links and not yet sent. */
  queuedRecords(): number {
    let n = 0;
    for (const peer of this.peers.values()) n += peer.link.queuedRecords;
    return n;
  }

  /** A marker that came through the hub. */
  fromHub(envelope: Envelope, fds: number[]): void {
    if (fds.length === 1) this.introduced(envelope.source, fds[0]!);
    else if (fds.length === 0) this.switched(envelope.source);
    else {
      closeAll(fds);
      this.host.warn(`a marker from ${envelope.source} with ${fds.length} descriptors; ignored`);
    }
  }

  /** Another kernel is gone or retires: we send it nothing more, so our side of the link ends (once what is queued is out). */
  down(kernelId: string): void {
    const peer = this.peers.get(kernelId);
    if (peer === undefined) return;
    this.peers.delete(kernelId);
    peer.sending = false;
    peer.quiet = true;
    peer.link.onCongestion = undefined;
    this.host.linkCongestion(kernelId, false);
    for (const [, fds] of peer.held) closeAll(fds);
    peer.held = [];
    void peer.link.end();
  }

  /**
   * Read every direct link to its end (this process retires, and every peer
   * has ended its side or is gone); resolves when all are closed, or after
   * CLOSE_TIMEOUT_MS.
   */
  async closeAll(): Promise<void> {
    const closing = [...this.peers.values()].map((peer) => {
      peer.sending = false;
      peer.quiet = true;
      return peer.link.end();
    });
    if (closing.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)));
    await Promise.race([Promise.all(closing), timeout]);
    clearTimeout(timer);
  }

  private introduced(peerId: string, fd: number): void {
    if (this.peers.has(peerId)) {
      closeAll([fd]);
      return;
    }
    const peer: Peer = {
      id: peerId,
      link: new FdLink(fd, DEFAULT_LIMITS.maxFrameBytes, envelopeFdCount, {
        onRecord: (record, fds) => this.fromPeer(peer, record, fds),
        onClosed: (error) => this.closed(peer, error),
      }, this.spinUs),
      sending: false,
      receiving: false,
      held: [],
      open: true,
      quiet: false,
    };
    this.peers.set(peerId, peer);
    peer.link.onCongestion = (congested) => this.host.linkCongestion(peerId, congested);
    this.host.flushChannel(peerId);
    this.host.hub.write(markerRecord(peerId, this.host.self, 0));
    peer.sending = true;
  }

  private switched(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined || peer.receiving) return;
    peer.receiving = true;
    const held = peer.held;
    peer.held = [];
    for (const [record, fds] of held) this.take(peer, record, fds);
    if (!peer.open && this.peers.get(peerId) === peer) this.peers.delete(peerId);
  }

  private fromPeer(peer: Peer, record: Uint8Array, fds: number[]): void {
    if (peer.receiving) this.take(peer, record, fds);
    else peer.held.push([record, fds]);
  }

  private take(peer: Peer, record: Uint8Array, fds: number[]): void {
    const envelope = openEnvelope(record);
    if (envelope === null || envelope.source !== peer.id || envelope.destination !== this.host.self || isMarker(envelope)) {
      closeAll(fds);
      this.cut(peer, 'a record that is not a batch from it to this kernel');
      return;
    }
    if (!this.host.deliver(envelope, fds)) this.cut(peer, 'a bad batch', false); // deliver reported it
  }

  /** The peer broke the protocol on the link: close it, and (`report`) tell the system's process. */
  private cut(peer: Peer, what: string, report = true): void {
    this.host.warn(`the direct link from ${peer.id} carried ${what}; link closed`);
    if (report) this.host.peerBroke(peer.id, `${what}, on the direct link`);
    if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
    peer.sending = false;
    peer.quiet = true;
    peer.link.destroy(new Error('protocol broken'));
  }

  private closed(peer: Peer, error: Error | undefined): void {
    peer.open = false;
    peer.sending = false;
    if (error !== undefined && !peer.quiet) this.host.warn(`the direct link to ${peer.id} failed`, error);
    // The link's own checks (framing, descriptors) failed: the peer broke the protocol.
    if (error instanceof CodecError && !peer.quiet) this.host.peerBroke(peer.id, `${error.message}, on the direct link`);
    // Held envelopes wait for the peer's marker through the hub, which is
    // ahead of anything the peer sends after the link is gone.
    if (peer.held.length === 0 && this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
  }
}
