/**
 * The admin's book of loadable sources (Thespian's source authority
 * protocol): which sources are loaded, which wait for the authority, and
 * why a hash that is neither cannot be used.
 *
 * - A load with no authority registered is ignored with a warning and not
 *   kept (loading it again once there is one validates it); a source fetched
 *   from another system is taken without one: that system's authority
 *   validated it.
 * - With an authority, the source waits (`pending`) until the authority
 *   answers ValidatedSource (with data: loaded; without: rejected), fails on
 *   it (its PoisonMessage: rejected), or `validationTimeoutMs` passes
 *   (expired). Only the actor asked may answer.
 * - `open` (a create from the source, anywhere in the system, or another
 *   system fetching it) is answered once the source is settled; creates
 *   from a hash that is not loaded get the reason.
 * - Watchers get LoadedSource / UnloadedSource, and on registering a
 *   LoadedSource for each source already loaded.
 */
import type { ActorAddress } from '../address.js';
import { systemOf } from '../core/flow/flow.js';
import type { LogLevel } from '../core/log.js';
import { LoadedSource, PoisonMessage, UnloadedSource, ValidatedSource, ValidateSource } from '../messages.js';
import { encodeCanonical } from './bundle/canonical.js';
import { SourceOpened } from './protocol.js';

export interface RegistryContext {
  /** Send from the admin's address. */
  send(to: ActorAddress, body: unknown): void;
  log(level: LogLevel, message: string, detail?: unknown): void;
  /** How long the authority has to answer a ValidateSource. */
  readonly validationTimeoutMs: number;
  /** Where the system's packages resolve from (a file URL), for sources' bare imports. */
  readonly resolveFrom: string;
  /** This system's id: an open for an endpoint of another system is a fetch (it gets the bytes the hash is of). */
  readonly systemId: string;
}

export interface SourceStatus {
  hash: string;
  state: 'loaded' | 'pending';
  files: number;
  bytes: number;
  /** Where it was loaded from (a path, or the system it was fetched from). */
  info: string | null;
  /** What the authority said of it. */
  sourceInfo: string | null;
  since: number;
}

interface Entry {
  readonly hash: string;
  /** The canonical bytes the hash is of: what another system that fetches it gets. */
  readonly bytes: Uint8Array;
  /** The canonical bytes kernels import: the authority's sourceData when it changed them. */
  moduleBytes: Uint8Array;
  files: number;
  readonly info: string | undefined;
  sourceInfo: string | undefined;
  state: 'pending' | 'loaded';
  /** The authority asked to validate it. */
  asked: ActorAddress | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  waiters: Array<() => void>;
  since: number;
}

/** Why hashes that are not loaded are not, remembered for this many of them (oldest forgotten first). */
const HISTORY = 512;

export class SourceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly history = new Map<string, string>();
  private readonly watchers = new Map<string, ActorAddress>();
  private authority: ActorAddress | null = null;
  private closed = false;

  constructor(private readonly ctx: RegistryContext) {}

  get hasAuthority(): boolean {
    return this.authority !== null;
  }

  /** The authority's address as text (for status), or null. */
  get authorityAddress(): string | null {
    return this.authority === null ? null : String(this.authority);
  }

  setAuthority(address: ActorAddress): void {
    this.authority = address;
    this.ctx.log('info', `source authority: ${address}`);
  }

  watch(address: ActorAddress, start: boolean): void {
    if (!start) {
      this.watchers.delete(address.id);
      return;
    }
    this.watchers.set(address.id, address);
    for (const entry of this.entries.values()) if (entry.state === 'loaded') this.ctx.send(address, new LoadedSource(entry.hash, entry.sourceInfo));
  }

  isLoaded(hash: string): boolean {
    return this.entries.get(hash)?.state === 'loaded';
  }

  /**
   * Takes canonical bytes (already decoded and checked by the caller) under
   * their hash. `fetched`: from another system, which validated it.
   */
  load(hash: string, bytes: Uint8Array, files: number, info: string | undefined, fetched = false): void {
    if (this.closed || this.entries.has(hash)) return;
    this.history.delete(hash);
    const entry: Entry = { hash, bytes, moduleBytes: bytes, files, info, sourceInfo: undefined, state: 'pending', asked: null, timer: undefined, waiters: [], since: Date.now() };
    const authority = this.authority;
    if (authority === null) {
      if (fetched) {
        this.entries.set(hash, entry);
        this.settle(entry, info);
        return;
      }
      this.remember(hash, `source ${hash} was loaded while no source authority was registered, so it was ignored: register one (registerSourceAuthority) and load it again`);
      this.ctx.log('warn', `no source authority is registered: source ${hash}${info === undefined ? '' : ` (${info})`} is ignored`);
      return;
    }
    this.entries.set(hash, entry);
    entry.asked = authority;
    entry.timer = setTimeout(() => this.expire(entry), this.ctx.validationTimeoutMs);
    this.ctx.send(authority, new ValidateSource(hash, bytes, info));
  }

  /** A message to the admin from `sender`: an answer of the authority, if it is one. */
  answer(message: unknown, sender: ActorAddress | null): boolean {
    if (message instanceof ValidatedSource) {
      const entry = this.entries.get(message.sourceHash);
      if (entry === undefined || entry.state !== 'pending' || sender === null || !entry.asked?.equals(sender)) {
        this.ctx.log('warn', `ignored a ValidatedSource for ${String(message.sourceHash)} from ${String(sender)}: no validation of it is waiting for that actor`);
        return true;
      }
      const data = message.sourceData;
      if (data === null || data === undefined) {
        this.reject(entry, `source ${entry.hash} was rejected by the source authority${message.sourceInfo ? ` (${message.sourceInfo})` : ''}`);
        return true;
      }
      void this.accept(entry, data, message.sourceInfo);
      return true;
    }
    if (message instanceof PoisonMessage && message.poisonMessage instanceof ValidateSource) {
      const entry = this.entries.get(message.poisonMessage.sourceHash);
      if (entry !== undefined && entry.state === 'pending' && sender !== null && entry.asked?.equals(sender)) {
        this.reject(entry, `source ${entry.hash} was rejected: the source authority failed on it (${message.details})`);
      }
      return true;
    }
    return false;
  }

  /** Answers `reply` with SourceOpened once the source is settled. */
  open(hash: string, withBytes: boolean, reply: ActorAddress): void {
    const entry = this.entries.get(hash);
    if (entry?.state === 'pending') {
      entry.waiters.push(() => this.open(hash, withBytes, reply));
      return;
    }
    if (entry === undefined) {
      this.ctx.send(reply, new SourceOpened(hash, this.whyNot(hash)));
      return;
    }
    const foreign = systemOf(reply.kernel) !== this.ctx.systemId;
    const bytes = !withBytes ? undefined : foreign ? entry.bytes : entry.moduleBytes;
    this.ctx.send(reply, new SourceOpened(hash, undefined, bytes, this.ctx.resolveFrom));
  }

  /** Resolves once the source is not pending (loaded or not). */
  settled(hash: string): Promise<void> {
    const entry = this.entries.get(hash);
    if (entry?.state !== 'pending') return Promise.resolve();
    return new Promise((resolve) => entry.waiters.push(resolve));
  }

  /** Stops new creates from the source; running actors keep running. False when it was not loaded or pending. */
  unload(hash: string): boolean {
    const entry = this.entries.get(hash);
    if (entry === undefined) return false;
    const wasLoaded = entry.state === 'loaded';
    this.entries.delete(hash);
    clearTimeout(entry.timer);
    this.remember(hash, `source ${hash} was unloaded`);
    this.wake(entry);
    if (wasLoaded) for (const watcher of this.watchers.values()) this.ctx.send(watcher, new UnloadedSource(hash, entry.sourceInfo));
    this.ctx.log('info', `source ${hash} unloaded`);
    return true;
  }

  /** Why `hash` cannot be used now (it is not loaded). */
  whyNot(hash: string): string {
    const entry = this.entries.get(hash);
    if (entry?.state === 'pending') return `source ${hash} is still being validated`;
    return this.history.get(hash) ?? `no source with hash ${hash} is loaded on this system (load it with loadActorSource first)`;
  }

  status(): SourceStatus[] {
    return [...this.entries.values()].map((e) => ({
      hash: e.hash,
      state: e.state,
      files: e.files,
      bytes: e.moduleBytes.length,
      info: e.info ?? null,
      sourceInfo: e.sourceInfo ?? null,
      since: e.since,
    }));
  }

  /** The system is going: no timers left, waiters answered. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.state === 'pending') {
        this.entries.delete(entry.hash);
        this.remember(entry.hash, `source ${entry.hash} was still being validated when the system shut down`);
        this.wake(entry);
      }
    }
  }

  // ---- settling ---------------------------------------------------------------------

  private async accept(entry: Entry, data: Uint8Array, sourceInfo: string | undefined): Promise<void> {
    entry.sourceInfo = sourceInfo;
    if (!sameBytes(data, entry.bytes)) {
      // The authority may hand back other data (decrypted, say): that is what runs.
      try {
        const { filesOfBytes } = await import('./bundle/archives.js');
        const files = await filesOfBytes(data, undefined, `the data the authority validated source ${entry.hash} with`);
        entry.moduleBytes = encodeCanonical(files);
        entry.files = files.size;
      } catch (error) {
        if (this.entries.get(entry.hash) === entry && entry.state === 'pending') this.reject(entry, `source ${entry.hash} was rejected: ${(error as Error).message}`);
        return;
      }
      if (this.entries.get(entry.hash) !== entry || entry.state !== 'pending') return;
    }
    this.settle(entry, sourceInfo);
  }

  private settle(entry: Entry, sourceInfo: string | undefined): void {
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.state = 'loaded';
    entry.sourceInfo = sourceInfo;
    entry.since = Date.now();
    this.ctx.log('info', `source ${entry.hash} loaded${sourceInfo ? ` (${sourceInfo})` : ''}`);
    for (const watcher of this.watchers.values()) this.ctx.send(watcher, new LoadedSource(entry.hash, sourceInfo));
    this.wake(entry);
  }

  private reject(entry: Entry, why: string): void {
    clearTimeout(entry.timer);
    this.entries.delete(entry.hash);
    this.remember(entry.hash, why);
    this.ctx.log('warn', why);
    this.wake(entry);
  }

  private expire(entry: Entry): void {
    if (this.entries.get(entry.hash) !== entry || entry.state !== 'pending') return;
    this.reject(entry, `validation of source ${entry.hash} expired: the source authority did not answer within ${this.ctx.validationTimeoutMs} ms`);
  }

  private wake(entry: Entry): void {
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private remember(hash: string, why: string): void {
    this.history.delete(hash);
    this.history.set(hash, why);
    if (this.history.size > HISTORY) this.history.delete(this.history.keys().next().value!);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
