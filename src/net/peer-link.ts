/**
 * The link from this system to one other system: a Link the main kernel's
 * router sends frames for that system's kernels into, carried by whichever
 * connection is current, under a session that survives connections.
 *
 * Out: frames for each remote kernel go through a Channel of their own (end
 * to end with that kernel: the other system's main forwards envelopes for its
 * process kernels without decoding them), and each sealed envelope becomes a
 * numbered record of the session, kept with its frames until acknowledged.
 *
 * In: numbered records are counted per connection from the number this side
 * announced, so a record already taken (from a connection being replaced) is
 * dropped; acks and heartbeats belong to the connection. What the records
 * mean is the owner's business (mesh.ts).
 *
 * Connections: at most one is current. A second one for the same peer
 * replaces it when the same side dialled both (a redial), else the one that
 * the system with the smaller id dialled wins: both sides apply the same rule
 * to the same facts, so they keep the same connection.
 */
import type { Frame } from '../core/protocol.js';
import type { Link } from '../transport/link.js';
import { Channel } from '../transport/channel.js';
import type { RecordLink } from '../transport/fd-link.js';
import type { RecordBytes } from '../transport/record-writes.js';
import { ACK_AFTER_MS, ACK_EVERY_RECORDS, Session, streamStarts, type SentRecord } from './session.js';
import { LinkRecord, ackRecord, byeRecord, conventionRecord, heartbeatRecord, linkRecordKind, readBye, readNumber, type SystemHello } from './wire.js';

/** Unacknowledged bytes on a link to another system before its senders pause, and where they resume. */
export const NET_HIGH_WATER_BYTES = 1024 * 1024;
export const NET_LOW_WATER_BYTES = 256 * 1024;

const NO_HANDLES = 'a socket cannot be sent to an actor on another system (only to another process of the same host and system)';

export interface PeerLinkOwner {
  readonly selfId: string;
  readonly selfKernel: string;
  /** An envelope from the peer, in order, each once. */
  envelope(peer: PeerLink, record: Uint8Array): void;
  /** A membership record from the peer (wire.ts `readConvention` decodes it), in order, each once. */
  convention(peer: PeerLink, record: Uint8Array): void;
  /** Frames sent and never acknowledged (the session restarted or the peer is gone). */
  lost(peer: PeerLink, frames: Frame[]): void;
  /** The peer started its side of the session over: it counted us as gone. */
  restarted(peer: PeerLink): void;
  /** The current connection ended (not replaced); `error` when it broke. */
  disconnected(peer: PeerLink, error: Error | undefined): void;
  /** The peer said it leaves. */
  bye(peer: PeerLink, reason: string): void;
  /** The peer broke the protocol on its connection (closed already). */
  broken(peer: PeerLink, what: string): void;
}

export class PeerLink implements Link {
  session: Session;
  conn: RecordLink | null = null;
  private connDialedByMe = false;
  /** Numbered records seen on the current connection (see the file comment). */
  private inCount = 0;
  private readonly channels = new Map<string, Channel>();
  private ackTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When something last came from the peer (ms). */
  lastHeard = Date.now();
  /** When something was last written to it (heartbeats fill the gaps). */
  lastSent = 0;
  /** The peer's own figure of its actors, from heartbeats. */
  actors = 0;
  /** The hello of the current (or last) connection. */
  hello: SystemHello;
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;
  /** The address this side dials to reach the peer, if it dials it. */
  dialAddress: string | null = null;
  closed = false;

  constructor(
    readonly systemId: string,
    hello: SystemHello,
    generation: number,
    private readonly owner: PeerLinkOwner,
  ) {
    this.hello = hello;
    this.session = new Session(generation);
  }

  /** Flow-control scope of everything behind this link: the whole system. */
  get scope(): string {
    return this.systemId;
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  // ---- Link (frames from the main kernel's router) --------------------------

  send(destination: string, frame: Frame): void {
    if (this.closed) return;
    let channel = this.channels.get(destination);
    if (channel === undefined) {
      // A pooled envelope is not given back: the session keeps it to send again after a drop.
      channel = new Channel(destination, this.owner.selfKernel, (envelope, _fds, _pooled, frames) => this.sendNumbered(envelope, frames), {}, NO_HANDLES);
      this.channels.set(destination, channel);
    }
    channel.send(frame);
  }

  /** Frames waiting: unacknowledged, and queued in channels. */
  pending(): number {
    let n = this.session.unackedFrames;
    for (const channel of this.channels.values()) n += channel.queued;
    return n;
  }

  /** The peer's kernel `kernelId` is gone: forget the channel to it (its codec state died with it). */
  kernelGone(kernelId: string): Frame[] {
    const channel = this.channels.get(kernelId);
    if (channel === undefined) return [];
    this.channels.delete(kernelId);
    return channel.takeQueued();
  }

  /** Everything never acknowledged (before close, when the peer is gone). */
  salvage(): Frame[] {
    return this.restartSession(this.session.generation + 1);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.ackTimer);
    const conn = this.conn;
    this.conn = null;
    if (conn !== null) void conn.end();
    this.setCongested(false);
  }

  /** Leave politely: say why, then close. */
  leave(reason: string): void {
    this.conn?.write(byeRecord(reason));
    this.close();
  }

  sendConvention(message: unknown): void {
    this.sendNumbered(conventionRecord(message), null);
  }

  private sendNumbered(bytes: RecordBytes, frames: Frame[] | null): void {
    if (this.closed) return;
    const record: SentRecord = { bytes, frames };
    this.session.add(record);
    if (this.conn !== null) {
      this.conn.write(bytes);
      this.lastSent = Date.now();
    }
    if (!this.congested && this.session.unackedBytes > NET_HIGH_WATER_BYTES) this.setCongested(true);
  }

  private setCongested(congested: boolean): void {
    if (this.congested === congested) return;
    this.congested = congested;
    this.onCongestion?.(congested);
  }

  // ---- connections ------------------------------------------------------------

  /**
   * A connection finished its handshake. `mine` is what this side announced
   * in its hello. Returns false when the connection lost to the current one
   * (the caller closes it).
   */
  attach(conn: RecordLink, theirs: SystemHello, mine: { generation: number; received: number }, dialedByMe: boolean): boolean {
    if (this.closed) return false;
    if (this.conn !== null && this.conn !== conn) {
      const replaces = this.connDialedByMe === dialedByMe || (dialedByMe ? this.owner.selfId < this.systemId : this.systemId < this.owner.selfId);
      if (!replaces) return false;
      const old = this.conn;
      this.conn = null;
      old.handlers = { onRecord: () => undefined, onClosed: () => undefined };
      old.destroy(new Error('replaced'));
    }
    const starts = streamStarts(mine, theirs);
    if (starts.generation > this.session.generation) {
      const lost = this.restartSession(starts.generation);
      if (lost.length > 0) this.owner.lost(this, lost);
      this.owner.restarted(this);
    }
    const resend = this.session.resendAfter(starts.outboundFrom);
    if (resend === false) {
      conn.destroy(new Error('resume count out of range'));
      this.owner.broken(this, `a resume count (${starts.outboundFrom}) beyond what was sent (${this.session.sent})`);
      return true;
    }
    // The peer may have had more than its acks said: what it confirms now may end a congestion.
    if (this.congested && this.session.unackedBytes < NET_LOW_WATER_BYTES) this.setCongested(false);
    this.hello = theirs;
    this.conn = conn;
    this.connDialedByMe = dialedByMe;
    this.inCount = starts.inboundFrom;
    this.lastHeard = Date.now();
    conn.handlers = {
      onRecord: (record) => this.received(conn, record),
      onClosed: (error) => this.connectionClosed(conn, error),
    };
    for (const record of resend) conn.write(record.bytes);
    return true;
  }

  private connectionClosed(conn: RecordLink, error: Error | undefined): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (!this.closed) this.owner.disconnected(this, error);
  }

  /** Drop the current connection (half-open, or broken protocol); the session stays. */
  dropConnection(reason: Error): void {
    const conn = this.conn;
    if (conn === null) return;
    this.conn = null;
    conn.handlers = { onRecord: () => undefined, onClosed: () => undefined };
    conn.destroy(reason);
  }

  /** Forget the session (the peer is gone, or started over): returns the frames never acknowledged. */
  private restartSession(generation: number): Frame[] {
    const frames: Frame[] = [];
    for (const record of this.session.reset(generation)) if (record.frames !== null) frames.push(...record.frames);
    // Codec state is per session: both ends start their channels afresh.
    for (const channel of this.channels.values()) frames.push(...channel.takeQueued());
    this.channels.clear();
    this.setCongested(false);
    return frames;
  }

  // ---- records from the peer -----------------------------------------------------

  private received(conn: RecordLink, record: Uint8Array): void {
    if (this.conn !== conn || this.closed) return;
    this.lastHeard = Date.now();
    const kind = linkRecordKind(record);
    try {
      switch (kind) {
        case 0:
        case LinkRecord.Convention:
          if (this.numbered()) {
            if (kind === 0) this.owner.envelope(this, record);
            else this.owner.convention(this, record);
          }
          return;
        case LinkRecord.Ack:
          if (!this.session.ack(readNumber(record))) throw new Error('an acknowledgement of records never sent');
          if (this.congested && this.session.unackedBytes < NET_LOW_WATER_BYTES) this.setCongested(false);
          return;
        case LinkRecord.Heartbeat:
          this.actors = readNumber(record);
          return;
        case LinkRecord.Bye:
          this.owner.bye(this, readBye(record));
          return;
        default:
          throw new Error(`an unknown link record (kind ${kind})`);
      }
    } catch (error) {
      this.dropConnection(error instanceof Error ? error : new Error(String(error)));
      this.owner.broken(this, (error as Error).message);
    }
  }

  /** Counts a numbered record; true when it is new (false: a duplicate of one already taken). */
  private numbered(): boolean {
    const n = ++this.inCount;
    const session = this.session;
    if (n <= session.received) return false;
    if (n !== session.received + 1) throw new Error(`records out of sequence (${n} after ${session.received})`);
    session.received = n;
    if (n - session.ackedToPeer >= ACK_EVERY_RECORDS) this.ackNow();
    else if (this.ackTimer === undefined) this.ackTimer = setTimeout(() => this.ackNow(), ACK_AFTER_MS);
    return true;
  }

  ackNow(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const session = this.session;
    if (this.conn === null || session.received === session.ackedToPeer) return;
    session.ackedToPeer = session.received;
    this.conn.write(ackRecord(session.received));
  }

  /** Called every heartbeat period by the mesh. */
  heartbeat(actors: number, now: number): void {
    if (this.conn === null) return;
    this.conn.write(heartbeatRecord(actors));
    this.lastSent = now;
  }
}
