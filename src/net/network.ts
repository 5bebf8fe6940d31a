/**
 * A system on the network: its admin port, its links to other systems, the
 * convention's membership, and its clients, wired to the main kernel.
 *
 * Where a message for another system goes: the main kernel's router has no
 * link of its own for that kernel, so it asks `route`, which gives the
 * PeerLink of that kernel's system (mesh.ts); frames from worker threads and
 * processes reach the router through the main thread as usual. Where one
 * from another system goes: PeerLink → `Inbound` (inbound.ts) → this kernel,
 * a process (undecoded), or a thread's link.
 */
import type { Socket } from 'node:net';
import type { Capabilities } from '../core/placement/capabilities.js';
import { inSystem, systemOf } from '../core/flow/flow.js';
import type { Kernel } from '../core/kernel.js';
import type { LogLevel, LogRecord } from '../core/log.js';
import { FrameKind, type CreateRequest, type Frame } from '../core/protocol.js';
import type { RemoteSystem } from '../core/placement/remotes.js';
import type { NameTable } from '../admin/names.js';
import type { Router } from '../hosts/router.js';
import { AdminPort } from './admin-port.js';
import { Clients } from './clients.js';
import { Convention, type ConventionMessage, type ConventionStatusEntry, type MemberPeer } from './convention.js';
import { framed } from './handshake.js';
import { Inbound } from './inbound.js';
import { Mesh } from './mesh.js';
import type { PeerLink } from './peer-link.js';
import { checkExposure, derivePsk } from './secret.js';
import { WIRE_FORMAT, encodeHello, readConvention, wireMismatch, type Hello } from './wire.js';

export interface NetworkOptions {
  admin?: { port: number; host?: string };
  convention?: { leader?: string | string[]; heartbeatMs?: number; deadAfterMs?: number };
  secret?: string;
  insecure?: boolean;
  outboundOnly: boolean;
}

export interface NetworkContext {
  readonly systemId: string;
  readonly kernel: Kernel;
  readonly router: Router;
  readonly names: NameTable;
  capabilities(): Capabilities;
  /** This system's actor count (heartbeats carry it, for placement). */
  actors(): number;
  /** Tell the admin's watchers of a membership change. */
  notify(adminAddress: string, capabilities: Capabilities, added: boolean): void;
  log(record: LogRecord): void;
  /**
   * Creates from other systems pass through here before they are placed
   * (`place`): one from a loadable source this system lacks waits for the
   * source to be fetched (src/sources/remote-sources.ts).
   */
  admitCreate?(request: CreateRequest, place: (request: CreateRequest) => void): void;
}

export const DEFAULT_HEARTBEAT_MS = 500;
export const DEFAULT_DEAD_AFTER_MS = 3000;

export class SystemNetwork {
  readonly mesh: Mesh;
  readonly convention: Convention;
  private readonly clients: Clients;
  private readonly inbound = new WeakMap<PeerLink, Inbound>();
  private port: AdminPort | null = null;
  private closed = false;

  private constructor(
    private readonly ctx: NetworkContext,
    options: NetworkOptions,
    psk: Buffer | null,
  ) {
    const heartbeatMs = options.convention?.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    const deadAfterMs = options.convention?.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS;
    const kernel = ctx.kernel;
    this.mesh = new Mesh(
      {
        selfId: ctx.systemId,
        selfKernel: kernel.id,
        heartbeatMs,
        deadAfterMs,
        psk,
        adminAddress: () => this.adminAddress,
        capabilities: () => ctx.capabilities(),
        actors: () => ctx.actors(),
        log: (level, message, detail) => this.log(level, message, detail),
      },
      {
        up: (peer) => this.peerUp(peer),
        gone: (peer, why) => this.peerGone(peer, why),
        envelope: (peer, record) => this.envelope(peer, record),
        convention: (peer, message) => this.conventionRecord(peer, message),
        lost: (frames) => {
          for (const frame of frames) kernel.undeliverable(frame);
        },
        wanted: (peer) => this.convention.wanted(this.member(peer)),
      },
    );
    this.convention = new Convention(
      {
        dial: (address, failed) => this.mesh.dialAddress(address, failed),
        know: (systemId, address, capabilities) => void this.mesh.know(systemId, address, capabilities),
        send: (systemId, message) => this.mesh.route(systemId)?.sendConvention(message),
        drop: (systemId, reason) => {
          const peer = this.mesh.peers.get(systemId);
          if (peer === undefined) return;
          peer.leave(reason);
          this.mesh.declareGone(peer, reason);
          this.mesh.forget(peer);
        },
        peer: (systemId) => {
          const peer = this.mesh.route(systemId);
          return peer === undefined ? undefined : this.member(peer);
        },
        up: () => [...this.mesh.peers.values()].filter((p) => this.mesh.state(p) === 'up').map((p) => this.member(p)),
        reachable: () => [...this.mesh.peers.values()].filter((p) => this.mesh.state(p) !== 'gone').map((p) => this.member(p)),
      },
      { systemId: ctx.systemId, adminAddress: () => this.adminAddress, capabilities: () => ctx.capabilities() },
      {
        notify: (address, capabilities, added) => ctx.notify(address, capabilities, added),
        placement: (members) => this.placement(members),
        log: (level, message, detail) => this.log(level, message, detail),
      },
    );
    this.clients = new Clients({
      kernel,
      router: ctx.router,
      selfId: ctx.systemId,
      adminId: kernel.adminAddress.id,
      placeCreate: () => undefined,
      welcome: (clientKernel) => ({ kind: 'welcome', wire: WIRE_FORMAT, systemId: ctx.systemId, clientKernel, adminAddress: this.adminAddress, capabilities: ctx.capabilities() }),
      gone: (clientKernel) => this.localKernelGone(clientKernel),
      log: (level, message, detail) => this.log(level, message, detail),
    });
    // Per frame for another system: the last answer is kept (a stream names one kernel).
    let lastKernel = '';
    let lastLink: PeerLink | undefined;
    ctx.router.remote = (kernelId) => {
      if (kernelId === lastKernel && lastLink !== undefined && this.mesh.state(lastLink) !== 'gone') return lastLink;
      if (inSystem(kernelId, ctx.systemId)) return undefined;
      lastKernel = kernelId;
      lastLink = this.mesh.route(systemOf(kernelId));
      return lastLink;
    };
    ctx.router.remotePending = () => {
      let n = 0;
      for (const peer of this.mesh.peers.values()) n += peer.pending();
      return n;
    };
    // Kernels of this system that die are news for the other systems (their watches and children).
    kernel.downListeners.add((kernelId) => {
      if (systemOf(kernelId) === ctx.systemId && kernelId.includes(':')) this.tellPeers({ t: 'kernelDown', kernelId });
    });
  }

  static async start(ctx: NetworkContext, options: NetworkOptions): Promise<SystemNetwork> {
    const psk = options.secret !== undefined ? derivePsk(options.secret) : null;
    const network = new SystemNetwork(ctx, options, psk);
    try {
      if (options.admin !== undefined && !options.outboundOnly) {
        const host = options.admin.host ?? '127.0.0.1';
        checkExposure(host, options.secret, options.insecure);
        network.port = await AdminPort.open(host, options.admin.port, psk, {
          hello: (socket, hello, rest) => network.accept(socket, hello, rest),
          log: (level, message) => network.log(level, message),
        });
      }
    } catch (error) {
      await network.close();
      throw error;
    }
    const leader = options.convention?.leader;
    if (leader !== undefined) network.convention.join(Array.isArray(leader) ? leader : [leader]);
    return network;
  }

  get adminAddress(): string | null {
    return this.port?.address ?? null;
  }

  status(actors: number): ConventionStatusEntry[] {
    return this.convention.status(actors);
  }

  get clientCount(): number {
    return this.clients.count;
  }

  /** Leave the convention (bye to every peer), close every connection and the port. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.convention.stop();
    await this.clients.close();
    this.mesh.close('it shut down');
    this.ctx.router.remote = null;
    this.ctx.router.remotePending = null;
    await this.port?.close();
  }

  // ---- connections -------------------------------------------------------------------

  private accept(socket: Socket, hello: Hello, rest: Uint8Array): void {
    const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (hello.kind === 'client' || hello.kind === 'system') {
      const mismatch = wireMismatch(hello);
      if (mismatch !== null) return this.refuse(socket, from, mismatch);
    }
    if (hello.kind === 'client') {
      this.clients.accept(socket, rest);
      return;
    }
    if (hello.kind === 'system') {
      if (hello.systemId === this.ctx.systemId) return this.refuse(socket, from, 'it has this system’s own id');
      this.mesh.accepted(socket, hello, rest);
      return;
    }
    this.refuse(socket, from, `a hello of kind "${hello.kind}" is not for a system to send`);
  }

  private refuse(socket: Socket, from: string, reason: string): void {
    this.log('warn', `refused a connection from ${from}: ${reason}`);
    socket.end(framed(encodeHello({ kind: 'refused', reason })));
  }

  // ---- other systems -------------------------------------------------------------------

  private inboundOf(peer: PeerLink): Inbound {
    let inbound = this.inbound.get(peer);
    if (inbound === undefined) {
      inbound = new Inbound(
        {
          kernel: this.ctx.kernel,
          router: this.ctx.router,
          placeCreate: (request) => (this.ctx.admitCreate ? this.ctx.admitCreate(request, (r) => this.placeCreate(r)) : this.placeCreate(request)),
          log: (level, message, detail) => this.log(level, message, detail),
        },
        { system: peer.systemId, self: this.ctx.systemId, selfKernel: this.ctx.kernel.id, adminId: this.ctx.kernel.adminAddress.id },
        () => this.mesh.name(peer),
      );
      this.inbound.set(peer, inbound);
    }
    return inbound;
  }

  private envelope(peer: PeerLink, record: Uint8Array): void {
    if (!this.inboundOf(peer).receive(record)) {
      peer.dropConnection(new Error('not an envelope'));
      this.log('error', `${this.mesh.name(peer)} sent a record that is not an envelope; connection closed`);
    }
  }

  private peerUp(peer: PeerLink): void {
    // No decoding state to forget here: a session that restarted went through peerGone first.
    peer.onCongestion = (congested) => this.ctx.router.congestionChanged(peer, peer.systemId, congested);
    this.convention.up(this.member(peer));
  }

  private peerGone(peer: PeerLink, why: string): void {
    this.inboundOf(peer).reset();
    const kernel = this.ctx.kernel;
    // Its actors are gone for this system: children, watches, held frames.
    kernel.kernelDown(peer.systemId);
    kernel.host.broadcast?.([FrameKind.Control, { op: 'kernelDown', kernelId: peer.systemId }]);
    this.convention.gone(this.member(peer), why);
  }

  private conventionRecord(peer: PeerLink, record: Uint8Array): void {
    try {
      const raw = readConvention(record);
      const message = raw as ConventionMessage;
      if (message !== null && typeof message === 'object' && message.t === 'kernelDown') {
        this.remoteKernelGone(peer, message.kernelId);
        return;
      }
      this.convention.message(this.member(peer), raw);
    } catch (error) {
      this.log('error', `${this.mesh.name(peer)} sent a bad membership record; dropped`, String(error));
    }
  }

  /** A kernel of `peer`'s system died (a thread, a process, a client): as if one of ours had. */
  private remoteKernelGone(peer: PeerLink, kernelId: string): void {
    if (typeof kernelId !== 'string' || systemOf(kernelId) !== peer.systemId || !kernelId.includes(':')) {
      this.log('error', `${this.mesh.name(peer)} reported the death of ${String(kernelId)}, which is not its own; ignored`);
      return;
    }
    for (const frame of peer.kernelGone(kernelId)) this.ctx.kernel.undeliverable(frame);
    this.inboundOf(peer).reset(kernelId);
    this.ctx.kernel.kernelDown(kernelId);
    this.ctx.kernel.host.broadcast?.([FrameKind.Control, { op: 'kernelDown', kernelId }]);
  }

  /** A kernel of this system is gone (a client disconnected): here, and for the other systems. */
  private localKernelGone(kernelId: string): void {
    const kernel = this.ctx.kernel;
    kernel.kernelDown(kernelId);
    kernel.host.broadcast?.([FrameKind.Control, { op: 'kernelDown', kernelId }]);
  }

  private tellPeers(message: ConventionMessage): void {
    for (const peer of this.mesh.peers.values()) if (this.mesh.state(peer) === 'up') peer.sendConvention(message);
  }

  /** A create another system placed here: place it on one of this system's kernels. */
  private placeCreate(request: CreateRequest): void {
    const kernel = this.ctx.kernel;
    let target: string;
    try {
      target = kernel.host.place({ spec: { ref: request.spec, label: request.spec.exportName }, options: { requirements: request.requirements }, parent: null });
    } catch {
      target = kernel.id; // it fails there, with the reason told to its parent
    }
    const frame: Frame = [FrameKind.Create, request];
    if (target === kernel.id) {
      kernel.receiveFrame(frame);
      return;
    }
    this.ctx.names.alias(request.address.id, target);
    if (!kernel.host.sendFrame(target, frame)) kernel.undeliverable(frame);
  }

  private placement(members: RemoteSystem[]): void {
    const kernel = this.ctx.kernel;
    kernel.remotes.update(members);
    kernel.host.broadcast?.([FrameKind.Control, { op: 'members', members }]);
  }

  private member(peer: PeerLink): MemberPeer {
    return {
      systemId: peer.systemId,
      adminAddress: peer.hello.adminAddress,
      capabilities: peer.hello.capabilities,
      dialAddress: peer.dialAddress,
      actors: peer.actors,
      lastHeard: peer.lastHeard,
    };
  }

  private log(level: LogLevel, message: string, detail?: unknown): void {
    this.ctx.log({ level, message, source: 'network', time: Date.now(), detail });
  }
}
