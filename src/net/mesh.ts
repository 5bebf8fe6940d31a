/**
 * The links of one system to the other systems it knows: dialling (and
 * redialling), accepting, heartbeats, and declaring a silent peer gone.
 *
 * A peer is `connecting` until its first handshake, `up` while its session
 * lives, and `gone` once nothing has come from it for deadAfterMs (killed,
 * hung or unreachable alike), or it said bye, or it started its session over
 * (it counted us as gone). Frames for a gone peer's kernels have no route:
 * they become dead letters, and asks to its actors reject. A gone peer that
 * the convention still wants (a leader, an invited system) keeps being
 * redialled; when it answers, a new session starts (session.ts).
 *
 * The side that dialled a connection redials it when it drops, at once and
 * then backing off, so a reset shorter than deadAfterMs loses nothing: the
 * session resends what was not acknowledged. The dialler also drops a
 * connection that has been silent for half of deadAfterMs (a half-open TCP
 * connection never reports its death) and dials afresh.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Capabilities } from '../core/placement/capabilities.js';
import type { Frame } from '../core/protocol.js';
import { framed, peerLinkAfterHello, readHello } from './handshake.js';
import { PeerLink, type PeerLinkOwner } from './peer-link.js';
import { clientTlsOptions } from './secret.js';
import { Generations } from './session.js';
import { WIRE_FORMAT, encodeHello, wireMismatch, type SystemHello } from './wire.js';

export type PeerState = 'connecting' | 'up' | 'gone';

export interface MeshOptions {
  selfId: string;
  selfKernel: string;
  heartbeatMs: number;
  deadAfterMs: number;
  /** TLS pre-shared key (with a secret), or null for plain TCP. */
  psk: Buffer | null;
  adminAddress(): string | null;
  capabilities(): Capabilities;
  /** This system's actor count, for heartbeats (placement prefers the least loaded). */
  actors(): number;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, detail?: unknown): void;
}

export interface MeshEvents {
  /** A session with `peer` began (first contact, or after it was gone or started over). */
  up(peer: PeerLink): void;
  /** `peer` is gone; its session's unacknowledged frames were handed to `lost` first. */
  gone(peer: PeerLink, why: string): void;
  envelope(peer: PeerLink, record: Uint8Array): void;
  convention(peer: PeerLink, record: Uint8Array): void;
  lost(frames: Frame[]): void;
  /** Whether a gone peer is still wanted (redialled): leaders, invited systems. */
  wanted(peer: PeerLink): boolean;
}

const REDIAL_MS = [0, 50, 100, 200, 400, 800];
const REDIAL_GONE_MS = 1000;

interface PeerExtras {
  state: PeerState;
  dialing: boolean;
  redials: number;
  nextDialAt: number;
}

export class Mesh implements PeerLinkOwner {
  readonly peers = new Map<string, PeerLink>();
  private readonly extras = new WeakMap<PeerLink, PeerExtras>();
  readonly generations = new Generations();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(
    private readonly options: MeshOptions,
    private readonly events: MeshEvents,
  ) {
    this.timer = setInterval(() => this.tick(), Math.max(10, Math.min(options.heartbeatMs, options.deadAfterMs / 4)));
  }

  get selfId(): string {
    return this.options.selfId;
  }

  get selfKernel(): string {
    return this.options.selfKernel;
  }

  state(peer: PeerLink): PeerState {
    return this.extras.get(peer)?.state ?? 'gone';
  }

  /** The link for a system's kernels, if that system can be sent to now (not gone). */
  route(systemId: string): PeerLink | undefined {
    const peer = this.peers.get(systemId);
    return peer !== undefined && this.state(peer) !== 'gone' ? peer : undefined;
  }

  /**
   * Know `systemId` (learned from a leader, or an invitation) and reach it:
   * dial `address` unless the peer dials us (`address` null: outbound-only).
   */
  know(systemId: string, address: string | null, capabilities: Capabilities): PeerLink {
    let peer = this.peers.get(systemId);
    if (peer === undefined) {
      peer = this.create({ kind: 'system', wire: WIRE_FORMAT, systemId, adminAddress: address, capabilities, received: 0, generation: 0 });
    }
    if (address !== null && peer.dialAddress === null) peer.dialAddress = address;
    const extras = this.extras.get(peer)!;
    if (extras.state === 'gone' && !peer.connected) {
      extras.state = 'connecting';
      peer.lastHeard = Date.now();
    }
    this.dialSoon(peer);
    return peer;
  }

  /** Dial an address whose system we do not know yet (a leader, an invited system). */
  dialAddress(address: string, onFailure: (error: Error) => void): void {
    for (const peer of this.peers.values()) {
      if (peer.dialAddress === address || peer.hello.adminAddress === address) {
        this.dialSoon(peer);
        return;
      }
    }
    void this.connectTo(address, null).catch(onFailure);
  }

  /** A system connected to our admin port and said hello. */
  accepted(socket: Socket, theirs: SystemHello, rest: Uint8Array): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const peer = this.peers.get(theirs.systemId) ?? this.create(theirs);
    const mine = { generation: peer.session.generation, received: peer.session.received };
    socket.write(framed(encodeHello(this.ownHello(mine))));
    this.adopt(peer, socket, rest, theirs, mine, false);
  }

  /** Say bye to every peer and close every link. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const peer of this.peers.values()) peer.leave(reason);
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Forget a peer for good (deregistered and not wanted). */
  forget(peer: PeerLink): void {
    if (this.peers.get(peer.systemId) === peer) this.peers.delete(peer.systemId);
    this.generations.set(peer.systemId, peer.session.generation);
    peer.close();
  }

  /** Declare `peer` gone now (silence, bye, deregistration). */
  declareGone(peer: PeerLink, why: string): void {
    const extras = this.extras.get(peer);
    if (extras === undefined || extras.state === 'gone') return;
    extras.state = 'gone';
    peer.dropConnection(new Error(why));
    const lost = peer.salvage();
    this.generations.set(peer.systemId, peer.session.generation);
    if (lost.length > 0) this.events.lost(lost);
    this.events.gone(peer, why);
    if (!this.events.wanted(peer)) this.forget(peer);
    else {
      extras.redials = 0;
      extras.nextDialAt = Date.now() + REDIAL_GONE_MS;
    }
  }

  // ---- PeerLinkOwner ------------------------------------------------------------

  envelope(peer: PeerLink, record: Uint8Array): void {
    this.events.envelope(peer, record);
  }

  convention(peer: PeerLink, record: Uint8Array): void {
    this.events.convention(peer, record);
  }

  lost(_peer: PeerLink, frames: Frame[]): void {
    this.events.lost(frames);
  }

  restarted(peer: PeerLink): void {
    const extras = this.extras.get(peer)!;
    if (extras.state === 'up') {
      // It counted us as gone: mirror that (children, watches), then it is back.
      extras.state = 'gone';
      this.events.gone(peer, 'it started its session over (it had counted this system as gone)');
    }
  }

  disconnected(peer: PeerLink, error: Error | undefined): void {
    if (error !== undefined) this.options.log('debug', `link to ${this.name(peer)} dropped: ${error.message}`);
    this.dialSoon(peer);
  }

  bye(peer: PeerLink, reason: string): void {
    this.declareGone(peer, `it left (${reason})`);
  }

  broken(peer: PeerLink, what: string): void {
    this.options.log('error', `${this.name(peer)} broke the link protocol: ${what}; connection closed`);
    this.dialSoon(peer);
  }

  // ---- dialling -------------------------------------------------------------------

  private create(hello: SystemHello): PeerLink {
    const peer = new PeerLink(hello.systemId, hello, this.generations.get(hello.systemId), this);
    this.peers.set(hello.systemId, peer);
    this.extras.set(peer, { state: 'connecting', dialing: false, redials: 0, nextDialAt: 0 });
    return peer;
  }

  private dialSoon(peer: PeerLink): void {
    const extras = this.extras.get(peer);
    if (extras === undefined || peer.dialAddress === null || peer.connected || extras.dialing || this.closed) return;
    const delay = extras.state === 'gone' ? REDIAL_GONE_MS : REDIAL_MS[Math.min(extras.redials, REDIAL_MS.length - 1)]!;
    extras.nextDialAt = Math.max(extras.nextDialAt, Date.now() + delay);
    if (delay === 0) this.dialNow(peer);
  }

  private dialNow(peer: PeerLink): void {
    const extras = this.extras.get(peer)!;
    if (extras.dialing || peer.connected || peer.dialAddress === null || this.closed) return;
    extras.dialing = true;
    extras.redials++;
    this.connectTo(peer.dialAddress, peer)
      .catch((error: Error) => {
        if (extras.redials === 1 || extras.redials % 20 === 0) {
          this.options.log('warn', `cannot reach ${this.name(peer)} at ${peer.dialAddress}: ${error.message}; retrying`);
        }
      })
      .finally(() => {
        extras.dialing = false;
        if (!peer.connected) this.dialSoon(peer);
      });
  }

  /**
   * Connect to `address`, say hello, read the answer, and attach the
   * connection to the peer it turns out to be. `expected` is the peer we
   * meant to reach (null for a first contact by address).
   */
  private async connectTo(address: string, expected: PeerLink | null): Promise<void> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(address.slice(colon + 1));
    const psk = this.options.psk;
    const socket = psk !== null ? tlsConnect({ host, port, ...clientTlsOptions(psk) }) : tcpConnect({ host, port });
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once(psk !== null ? 'secureConnect' : 'connect', () => resolve());
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('connection closed')));
      });
      socket.setNoDelay(true);
      const mine = expected !== null ? { generation: expected.session.generation, received: expected.session.received } : { generation: 0, received: 0 };
      socket.write(framed(encodeHello(this.ownHello(mine))));
      const { hello, rest } = await readHello(socket, this.options.deadAfterMs);
      if (hello.kind === 'refused') throw new Error(`refused: ${hello.reason}`);
      if (hello.kind !== 'system') throw new Error('it is not a thespis system');
      const mismatch = wireMismatch(hello);
      if (mismatch !== null) throw new Error(mismatch);
      if (hello.systemId === this.options.selfId) throw new Error('that address is this system itself');
      let peer = this.peers.get(hello.systemId);
      if (expected !== null && expected.systemId !== hello.systemId) {
        // Another system answers there now (the one we knew restarted): the old one is gone.
        expected.dialAddress = null;
        this.declareGone(expected, `a different system (${hello.systemId}) now answers at ${address}`);
      }
      if (peer === undefined) peer = this.create(hello);
      if (peer.dialAddress === null) peer.dialAddress = address;
      if (mine.generation !== peer.session.generation || mine.received !== peer.session.received) {
        // We spoke for a session we did not know we had (reached by another address): once more, rightly.
        socket.destroy();
        this.dialSoon(peer);
        return;
      }
      this.adopt(peer, socket, rest, hello, mine, true);
    } catch (error) {
      socket.destroy();
      throw error;
    }
  }

  private adopt(peer: PeerLink, socket: Socket, rest: Uint8Array, theirs: SystemHello, mine: { generation: number; received: number }, dialedByMe: boolean): void {
    socket.setNoDelay(true);
    const { link, start } = peerLinkAfterHello(socket, rest, { onRecord: () => undefined, onClosed: () => undefined });
    if (!peer.attach(link, theirs, mine, dialedByMe)) {
      link.destroy(new Error('a simultaneous connection won'));
      return;
    }
    const extras = this.extras.get(peer)!;
    extras.redials = 0;
    if (extras.state !== 'up') {
      extras.state = 'up';
      this.events.up(peer);
    }
    // Only now: what came with the hello may already be the peer's first records.
    start();
  }

  private ownHello(mine: { generation: number; received: number }): SystemHello {
    return {
      kind: 'system',
      wire: WIRE_FORMAT,
      systemId: this.options.selfId,
      adminAddress: this.options.adminAddress(),
      capabilities: this.options.capabilities(),
      ...mine,
    };
  }

  // ---- time ----------------------------------------------------------------------

  private heartbeatAt = 0;

  private tick(): void {
    const now = Date.now();
    const { heartbeatMs, deadAfterMs } = this.options;
    const beat = now - this.heartbeatAt >= heartbeatMs;
    if (beat) this.heartbeatAt = now;
    const actors = beat ? this.options.actors() : 0;
    for (const peer of [...this.peers.values()]) {
      const extras = this.extras.get(peer)!;
      if (extras.state === 'gone') {
        if (peer.dialAddress !== null && !peer.connected && now >= extras.nextDialAt) this.dialNow(peer);
        continue;
      }
      if (now - peer.lastHeard > deadAfterMs) {
        this.declareGone(peer, `nothing came from it for ${now - peer.lastHeard} ms`);
        continue;
      }
      if (peer.connected) {
        if (beat) peer.heartbeat(actors, now);
        // A half-open connection never says it died: the dialler replaces a silent one.
        if (peer.dialAddress !== null && now - peer.lastHeard > deadAfterMs / 2) peer.dropConnection(new Error('silent'));
      }
      if (!peer.connected && peer.dialAddress !== null && now >= extras.nextDialAt) this.dialNow(peer);
    }
  }

  name(peer: PeerLink): string {
    return peer.hello.adminAddress ?? `outbound:${peer.systemId}`;
  }
}
