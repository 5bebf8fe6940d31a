/**
 * Membership of a convention, on top of the mesh's links.
 *
 * There is no single leader. A system registers with every leader it is
 * given (and with any system that invites it); each leader sends every
 * system registered with it the list of the others, and each system then
 * links to every member it learns of. So members know each other directly,
 * and the convention (placement included) keeps working while any one leader
 * is down. A member counts as present while its link is up: a system that
 * is killed, hangs or becomes unreachable is gone after deadAfterMs of
 * silence on that link, on every side that loses it.
 *
 * Everything here speaks through `MembershipTransport`, so a second
 * interconnect (a message bus for conventions of hundreds of systems) can
 * replace the mesh without touching the rules.
 */
import type { Capabilities } from '../core/placement/capabilities.js';
import type { RemoteSystem } from '../core/placement/remotes.js';
import { CodecError } from '../errors.js';
import { isAdminAddress } from './wire.js';

/** One other system as membership sees it. */
export interface MemberPeer {
  readonly systemId: string;
  /** Its admin address, or null when it is outbound-only. */
  readonly adminAddress: string | null;
  readonly capabilities: Capabilities;
  /** The address this system dials it at, if any. */
  readonly dialAddress: string | null;
  readonly actors: number;
  readonly lastHeard: number;
}

/** What membership needs from the links between systems. */
export interface MembershipTransport {
  /** Dial an address whose system is not known yet; `failed` is called if it cannot be reached. */
  dial(address: string, failed: (error: Error) => void): void;
  /** Know a system (learned from a leader) and link to it. */
  know(systemId: string, address: string | null, capabilities: Capabilities): void;
  send(systemId: string, message: ConventionMessage): void;
  /** Stop linking to a system (deregistered). */
  drop(systemId: string, reason: string): void;
  peer(systemId: string): MemberPeer | undefined;
  /** Systems whose links are up. */
  up(): MemberPeer[];
  /** Systems that are up or being linked to (what is sent to them now arrives once they are). */
  reachable(): MemberPeer[];
}

export interface ConventionHooks {
  /** A member joined (`added`, also for new capabilities) or left. */
  notify(adminAddress: string, capabilities: Capabilities, added: boolean): void;
  /** The members placement may use changed. */
  placement(members: RemoteSystem[]): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string, detail?: unknown): void;
}

export type ConventionMessage =
  | { t: 'register' }
  | { t: 'members'; members: Array<{ systemId: string; adminAddress: string | null; capabilities: Capabilities }> }
  | { t: 'caps'; capabilities: Capabilities }
  | { t: 'invite' }
  | { t: 'kernelDown'; kernelId: string };

export interface ConventionStatusEntry {
  adminAddress: string;
  systemId: string;
  capabilities: Capabilities;
  leader: boolean;
  actors: number;
  /** ms since the epoch, or null for this system itself. */
  lastHeard: number | null;
}

const LEADER_RETRY_MS = [100, 250, 500, 1000, 2000];

export class Convention {
  /** Systems registered with this one (it leads them). */
  private readonly registered = new Set<string>();
  /** Leaders by address, and by system id once reached. */
  private readonly leaderAddresses = new Set<string>();
  private readonly leaderSystems = new Set<string>();
  /** Systems this one invited (pre-registered), by address, with the capabilities guessed for them. */
  private readonly invited = new Map<string, Capabilities>();
  /** Members announced to watchers, with the capabilities announced. */
  private readonly announced = new Map<string, { name: string; capabilities: Capabilities }>();
  private readonly retries = new Map<string, { attempts: number; timer: ReturnType<typeof setTimeout> | undefined }>();
  private stopped = false;

  constructor(
    private readonly transport: MembershipTransport,
    private readonly self: { systemId: string; adminAddress: () => string | null; capabilities: () => Capabilities },
    private readonly hooks: ConventionHooks,
  ) {}

  /** Register with these leaders (own address skipped); retried until reached, for as long as the system runs. */
  join(leaders: readonly string[]): void {
    for (const address of leaders) {
      if (address === this.self.adminAddress()) continue;
      this.leaderAddresses.add(address);
      this.reach(address);
    }
  }

  /** Whether this system leads: it is in its own leader list, or systems registered with it. */
  get leads(): boolean {
    return this.registered.size > 0;
  }

  /** A gone system worth redialling: a leader, or one this system invited. */
  wanted(peer: MemberPeer): boolean {
    return this.leaderSystems.has(peer.systemId) || (peer.dialAddress !== null && (this.leaderAddresses.has(peer.dialAddress) || this.invited.has(peer.dialAddress)));
  }

  // ---- the mesh reports ------------------------------------------------------------

  up(peer: MemberPeer): void {
    // Our hello may have left before our capabilities last changed: say them again
    // (the peer announces only a real change).
    this.transport.send(peer.systemId, { t: 'caps', capabilities: this.self.capabilities() });
    const dialled = peer.dialAddress;
    if (dialled !== null && this.leaderAddresses.has(dialled)) this.leaderSystems.add(peer.systemId);
    if (this.leaderSystems.has(peer.systemId)) this.transport.send(peer.systemId, { t: 'register' });
    if (dialled !== null && this.invited.has(dialled)) this.transport.send(peer.systemId, { t: 'invite' });
    this.announce(peer.systemId, nameOf(peer), peer.capabilities);
    this.placementChanged();
  }

  gone(peer: MemberPeer, why: string): void {
    this.registered.delete(peer.systemId);
    const announced = this.announced.get(peer.systemId);
    if (announced === undefined) return;
    this.announced.delete(peer.systemId);
    this.hooks.log(why.startsWith('it left') ? 'info' : 'warn', `${announced.name} left the convention: ${why}`);
    this.hooks.notify(announced.name, announced.capabilities, false);
    this.placementChanged();
  }

  message(peer: MemberPeer, raw: unknown): void {
    const message = checkMessage(raw);
    switch (message.t) {
      case 'register':
        this.registered.add(peer.systemId);
        this.shareMembers();
        return;
      case 'members':
        for (const member of message.members) {
          if (member.systemId === this.self.systemId) continue;
          this.transport.know(member.systemId, member.adminAddress, member.capabilities);
        }
        return;
      case 'caps':
        this.announce(peer.systemId, nameOf(peer), message.capabilities);
        if (this.registered.has(peer.systemId)) this.shareMembers();
        this.placementChanged();
        return;
      case 'invite':
        // The inviter becomes one of this system's leaders.
        this.leaderSystems.add(peer.systemId);
        if (peer.adminAddress !== null) this.leaderAddresses.add(peer.adminAddress);
        this.transport.send(peer.systemId, { t: 'register' });
        return;
      case 'kernelDown':
        return; // handled by the network (it is about routing, not membership)
    }
  }

  // ---- this system's own changes ------------------------------------------------------

  capabilitiesChanged(capabilities: Capabilities): void {
    // Peers still being linked to as well: their hello may carry the old capabilities.
    for (const peer of this.transport.reachable()) this.transport.send(peer.systemId, { t: 'caps', capabilities });
  }

  /** Invite the system at `address` into this convention, guessing its capabilities until it answers. */
  preRegister(address: string, capabilities: Capabilities): void {
    if (!isAdminAddress(address)) throw new TypeError(`preRegisterRemoteSystem: "${String(address)}" is not a host:port admin address`);
    if (this.invited.has(address) || address === this.self.adminAddress()) return;
    this.invited.set(address, { ...capabilities });
    const known = this.transport.up().find((p) => p.adminAddress === address);
    if (known !== undefined) {
      this.transport.send(known.systemId, { t: 'invite' });
      return;
    }
    this.announce(`pending:${address}`, address, capabilities);
    this.reach(address);
  }

  deRegister(address: string): void {
    this.invited.delete(address);
    this.leaderAddresses.delete(address);
    const pending = this.announced.get(`pending:${address}`);
    if (pending !== undefined) {
      this.announced.delete(`pending:${address}`);
      this.hooks.notify(address, pending.capabilities, false);
    }
    const peer = this.transport.up().find((p) => p.adminAddress === address || p.dialAddress === address);
    if (peer !== undefined) {
      this.leaderSystems.delete(peer.systemId);
      this.transport.drop(peer.systemId, 'deregistered');
    }
  }

  /** Every member announced so far (replayed to a new watcher). */
  members(): Array<{ adminAddress: string; capabilities: Capabilities }> {
    return [...this.announced.values()].map((m) => ({ adminAddress: m.name, capabilities: m.capabilities }));
  }

  status(selfActors: number): ConventionStatusEntry[] {
    const own = this.self.adminAddress();
    const entries: ConventionStatusEntry[] = [
      { adminAddress: own ?? `outbound:${this.self.systemId}`, systemId: this.self.systemId, capabilities: this.self.capabilities(), leader: this.leads, actors: selfActors, lastHeard: null },
    ];
    for (const peer of this.transport.up()) {
      entries.push({
        adminAddress: nameOf(peer),
        systemId: peer.systemId,
        capabilities: this.announced.get(peer.systemId)?.capabilities ?? peer.capabilities,
        leader: this.leaderSystems.has(peer.systemId),
        actors: peer.actors,
        lastHeard: peer.lastHeard,
      });
    }
    return entries;
  }

  stop(): void {
    this.stopped = true;
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Dial an address until it answers (a leader, or a system invited here). */
  private reach(address: string): void {
    if (this.stopped) return;
    let retry = this.retries.get(address);
    if (retry === undefined) this.retries.set(address, (retry = { attempts: 0, timer: undefined }));
    clearTimeout(retry.timer);
    retry.timer = undefined;
    this.transport.dial(address, (error) => {
      if (this.stopped) return;
      if (error.message.includes('this system itself')) {
        this.leaderAddresses.delete(address);
        return;
      }
      const attempts = ++retry!.attempts;
      if (attempts === 1 || attempts % 30 === 0) this.hooks.log('warn', `cannot reach ${address} to join the convention: ${error.message}; retrying`);
      retry!.timer = setTimeout(() => this.reach(address), LEADER_RETRY_MS[Math.min(attempts - 1, LEADER_RETRY_MS.length - 1)]);
    });
  }

  private announce(key: string, name: string, capabilities: Capabilities): void {
    const previous = this.announced.get(key);
    if (!key.startsWith('pending:')) {
      // A pre-registered system answered: its real entry replaces the guess.
      for (const [pendingKey, pending] of this.announced) {
        if (pendingKey.startsWith('pending:') && pending.name === name) this.announced.delete(pendingKey);
      }
    }
    if (previous !== undefined && sameCapabilities(previous.capabilities, capabilities)) return;
    this.announced.set(key, { name, capabilities: { ...capabilities } });
    this.hooks.notify(name, capabilities, true);
  }

  /** As a leader: tell every system registered here about the others. */
  private shareMembers(): void {
    const members = [...this.registered]
      .map((id) => this.transport.peer(id))
      .filter((p): p is MemberPeer => p !== undefined)
      .map((p) => ({ systemId: p.systemId, adminAddress: p.adminAddress, capabilities: this.announced.get(p.systemId)?.capabilities ?? p.capabilities }));
    for (const id of this.registered) this.transport.send(id, { t: 'members', members: members.filter((m) => m.systemId !== id) });
  }

  private placementChanged(): void {
    const members: RemoteSystem[] = this.transport.up().map((p) => ({
      systemId: p.systemId,
      kernel: `${p.systemId}:main`,
      capabilities: this.announced.get(p.systemId)?.capabilities ?? p.capabilities,
      actors: p.actors,
    }));
    this.hooks.placement(members);
  }
}

function nameOf(peer: MemberPeer): string {
  return peer.adminAddress ?? `outbound:${peer.systemId}`;
}

function sameCapabilities(a: Capabilities, b: Capabilities): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A membership record from a peer, checked (it is untrusted input). */
function checkMessage(raw: unknown): ConventionMessage {
  const m = raw as Record<string, unknown>;
  if (typeof m !== 'object' || m === null) throw new CodecError('a membership record must be a map');
  switch (m.t) {
    case 'register':
    case 'invite':
      return { t: m.t };
    case 'caps':
      if (typeof m.capabilities !== 'object' || m.capabilities === null) throw new CodecError('caps: capabilities must be a map');
      return { t: 'caps', capabilities: m.capabilities as Capabilities };
    case 'kernelDown':
      if (typeof m.kernelId !== 'string') throw new CodecError('kernelDown: kernelId must be a string');
      return { t: 'kernelDown', kernelId: m.kernelId };
    case 'members':
      if (!Array.isArray(m.members) || m.members.length > 10_000) throw new CodecError('members: a list is expected');
      for (const member of m.members as Array<Record<string, unknown>>) {
        if (typeof member !== 'object' || member === null || typeof member.systemId !== 'string' || !/^[0-9a-f]{1,32}$/.test(member.systemId)) {
          throw new CodecError('members: a malformed entry');
        }
        if (member.adminAddress !== null && !isAdminAddress(member.adminAddress)) throw new CodecError('members: a malformed address');
        if (typeof member.capabilities !== 'object' || member.capabilities === null) throw new CodecError('members: capabilities must be a map');
      }
      return m as unknown as ConventionMessage;
    default:
      throw new CodecError(`an unknown membership record (${String(m.t)})`);
  }
}
