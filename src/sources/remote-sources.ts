/**
 * Creates that another system placed here from a loadable source this
 * system lacks: fetch the source from the requesting system, check it,
 * validate it with this system's own authority (if it has one), then place
 * the create. Capability `AllowRemoteActorSources` says whom a source may
 * be fetched from: 'yes' (default, any member), 'leaderOnly' (a leader of
 * this system's convention), 'no'.
 *
 * Bytes from another system are untrusted: their size is bounded (by the
 * codec, and again here), their SHA-256 must be the hash asked for (a
 * mismatch is refused with a log line), and they must decode as a source.
 *
 * Order: a system's create requests to this one are placed in the order
 * they came (holds.ts relies on that), so once one waits for a fetch, those
 * after it from the same system wait behind it. Messages for the waiting
 * actors are held by the main kernel meanwhile, and released once it is
 * placed (or refused: then they are dead letters).
 */
import { ActorAddress } from '../address.js';
import { AdminRequest } from '../core/admin-request.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import { systemOf } from '../core/flow/flow.js';
import type { Kernel } from '../core/kernel.js';
import type { LogLevel } from '../core/log.js';
import { Created, TargetDown, type CreateRequest } from '../core/protocol.js';
import { sourceHashOf } from '../core/spec.js';
import { InvalidActorSpecError } from '../errors.js';
import { ChildActorExited } from '../messages.js';
import { callAdmin } from './admin-call.js';
import { decodeCanonical, hashOf } from './bundle/canonical.js';
import { SOURCE_LIMITS } from './bundle/limits.js';
import { SourceOpened } from './protocol.js';
import type { SourceRegistry } from './registry.js';

export const ALLOW_REMOTE_SOURCES = 'AllowRemoteActorSources';
const FETCH_TIMEOUT_MS = 60_000;

export interface RemoteSourcesContext {
  readonly kernel: Kernel;
  readonly registry: SourceRegistry;
  capabilities(): Capabilities;
  /** A member of the convention: how it is named, whether it leads this system. */
  member(systemId: string): { name: string; leader: boolean } | undefined;
  log(level: LogLevel, message: string, detail?: unknown): void;
}

interface Waiting {
  request: CreateRequest;
  ready: Promise<void> | null;
}

export class RemoteSources {
  /** Per requesting system, its creates in arrival order while one waits for a fetch. */
  private readonly queues = new Map<string, Waiting[]>();
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(private readonly ctx: RemoteSourcesContext) {}

  /** Places `request` with `place`, at once when it needs nothing fetched and nothing from its system waits. */
  admit(request: CreateRequest, place: (request: CreateRequest) => void): void {
    const from = systemOf(request.parent.kernel);
    const hash = sourceHashOf(request.spec);
    const ready = hash === undefined || this.ctx.registry.isLoaded(hash) ? null : this.obtain(hash, from);
    const queue = this.queues.get(from);
    if (queue === undefined && ready === null) {
      place(request);
      return;
    }
    const waiting: Waiting = { request, ready };
    if (queue !== undefined) {
      queue.push(waiting);
      return;
    }
    this.queues.set(from, [waiting]);
    void this.drain(from, place);
  }

  private async drain(from: string, place: (request: CreateRequest) => void): Promise<void> {
    const queue = this.queues.get(from)!;
    while (queue.length > 0) {
      const { request, ready } = queue[0]!;
      let failure: Error | null = null;
      if (ready !== null) await ready.catch((error: Error) => (failure = error));
      queue.shift();
      try {
        if (failure === null) place(request);
        else this.refuse(request, failure);
      } catch (error) {
        this.ctx.log('warn', `a create from system ${from} could not be placed: ${(error as Error).message}`);
      }
      // Messages that came for it while it waited were held here: now they go on (or die).
      const k = this.ctx.kernel;
      const { replay, orphaned } = k.holds.created(request.address.id);
      for (const frame of [...replay, ...orphaned]) k.receiveFrame(frame);
    }
    this.queues.delete(from);
  }

  /** The source `hash` loaded here, fetched from system `from` if need be. */
  private obtain(hash: string, from: string): Promise<void> {
    const registry = this.ctx.registry;
    let fetching = this.fetching.get(hash);
    if (fetching === undefined) {
      fetching = (async () => {
        await registry.settled(hash); // loaded here meanwhile, or being validated
        if (registry.isLoaded(hash)) return;
        this.checkAllowed(hash, from);
        const bytes = await this.fetch(hash, from);
        registry.load(hash, bytes, decodeCanonical(bytes).size, `fetched from ${this.ctx.member(from)?.name ?? from}`, true);
        await registry.settled(hash);
        if (!registry.isLoaded(hash)) throw new InvalidActorSpecError(registry.whyNot(hash));
      })();
      const done = fetching;
      this.fetching.set(hash, done);
      void done.then(
        () => this.fetching.delete(hash),
        () => this.fetching.delete(hash),
      );
    }
    return fetching;
  }

  private checkAllowed(hash: string, from: string): void {
    const raw = this.ctx.capabilities()[ALLOW_REMOTE_SOURCES];
    const policy = raw === undefined || raw === true ? 'yes' : raw === false ? 'no' : String(raw).toLowerCase();
    if (policy === 'yes') return;
    if (policy === 'leaderonly') {
      if (this.ctx.member(from)?.leader === true) return;
      throw new InvalidActorSpecError(`source ${hash} is not on this system, and ${ALLOW_REMOTE_SOURCES} is leaderOnly: system ${this.ctx.member(from)?.name ?? from} is not a leader of its convention`);
    }
    if (policy === 'no') throw new InvalidActorSpecError(`source ${hash} is not on this system, which takes no sources from others (${ALLOW_REMOTE_SOURCES}: no)`);
    throw new InvalidActorSpecError(`source ${hash} is not on this system, and its ${ALLOW_REMOTE_SOURCES} capability (${JSON.stringify(raw)}) is not yes, leaderOnly or no`);
  }

  /** Asks system `from`'s admin for the source's bytes; they must be what the hash names. */
  private async fetch(hash: string, from: string): Promise<Uint8Array> {
    const k = this.ctx.kernel;
    const adminKernel = `${from}:main`;
    const admin = new ActorAddress(adminKernel, `${adminKernel}.admin`);
    const call = callAdmin<unknown>(k, (reply) => ({ op: 'sourceOpen', hash, withBytes: true, reply }), FETCH_TIMEOUT_MS, `fetching source ${hash} from ${from}`, (op) => k.send(op.op === 'sourceOpen' ? op.reply : null, admin, new AdminRequest(op)));
    // Its system gone, the watch answers at once instead of the timeout.
    k.watch(admin, call.address, null);
    const answer = await call.reply.finally(() => k.unwatch(admin, call.address));
    const name = this.ctx.member(from)?.name ?? from;
    if (answer instanceof TargetDown) throw new InvalidActorSpecError(`source ${hash} is not on this system, and system ${name}, which asked for it, is gone`);
    if (!(answer instanceof SourceOpened)) throw new InvalidActorSpecError(`source ${hash}: system ${name} sent no source`);
    if (answer.error !== undefined) throw new InvalidActorSpecError(`source ${hash} could not be fetched from system ${name}: ${answer.error}`);
    const bytes = answer.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length > SOURCE_LIMITS.maxArchiveBytes) {
      throw new InvalidActorSpecError(`source ${hash}: system ${name} sent no bytes, or too many`);
    }
    const got = hashOf(bytes);
    if (got !== hash) {
      this.ctx.log('error', `system ${name} answered a fetch of source ${hash} with bytes whose hash is ${got}; refused`);
      throw new InvalidActorSpecError(`source ${hash}: system ${name} sent bytes of another hash (${got}); refused`);
    }
    return bytes;
  }

  /** The create fails as one whose module is missing would: its parent is told, and its ack says why. */
  private refuse(request: CreateRequest, error: Error): void {
    const k = this.ctx.kernel;
    this.ctx.log('warn', `a create from system ${systemOf(request.parent.kernel)} was refused: ${error.message}`);
    k.send(request.address, request.parent, new ChildActorExited(request.address));
    if (request.ack) k.send(null, request.ack, new Created(request.address, error.message, error.name));
  }
}
