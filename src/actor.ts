/**
 * The Actor base class: what an actor may do. Every method forwards to the
 * kernel hosting the actor; the kernel hands the actor its cell during
 * construction (see core/lifecycle/construct.ts), so these work from the constructor on.
 */
import { ActorAddress } from './address.js';
import type { Capabilities, CapabilityCheck } from './core/placement/capabilities.js';
import type { Cell } from './core/cell.js';
import { takeConstructing } from './core/lifecycle/construct.js';
import type { Kernel } from './core/kernel.js';
import type { CreateOptions } from './core/lifecycle/lifecycle.js';
import { makeLogger, type Logger } from './core/log.js';
import { childSourceHash, resolveSpec, type ActorSpec, type TroupeOptions } from './core/spec.js';
import { InvalidActorAddressError, ThespisError } from './errors.js';
import { checkMessageSize } from './transport/message-size.js';

const CELL = Symbol('thespis.actor.cell');
/** Loggers made on first use; kept outside the instance so idle actors stay small. */
const loggers = new WeakMap<object, Logger>();

export type { CreateOptions, ActorSpec, TroupeOptions, Logger, Capabilities, CapabilityCheck };

export abstract class Actor {
  /** Where worker threads and processes load this class from: `static module = import.meta.url`. */
  static module?: string;
  /** Capabilities the hosting system must have (`true`: present and truthy; otherwise equal). */
  static requirements?: Capabilities;
  /** A custom compatibility test, used instead of the default requirement matching. */
  static capabilityCheck?: CapabilityCheck;
  /** One address in front of up to `max` identical members. */
  static troupe?: TroupeOptions;
  /** Transient actor: exits after this long without a message. */
  static idleTimeoutMs?: number;

  private readonly [CELL]: Cell;

  constructor() {
    const cell = takeConstructing() as Cell | undefined;
    if (cell === undefined) {
      throw new ThespisError(`${new.target.name} must be created with createActor(), not with new`);
    }
    this[CELL] = cell;
  }

  /** Handle one message. A returned promise holds the next message until it settles. */
  abstract receiveMessage(message: unknown, sender: ActorAddress): void | Promise<void>;

  get myAddress(): ActorAddress {
    return this[CELL].address;
  }

  /** The global name this actor was created under, if any. */
  get globalName(): string | undefined {
    return this[CELL].extra?.globalName;
  }

  /** A logger whose records reach the system's log wherever the actor runs. */
  get log(): Logger {
    let logger = loggers.get(this);
    if (logger === undefined) {
      const kernel = this.kernel;
      logger = makeLogger(this.myAddress.id, (record) => kernel.host.log(record));
      loggers.set(this, logger);
    }
    return logger;
  }

  /**
   * Asynchronous, never blocks. Throws MessageTooLargeError for a string or
   * bytes larger than a link carries, wherever the target is (message-size.ts).
   */
  send(target: ActorAddress, message: unknown): void {
    if (!(target instanceof ActorAddress)) {
      throw new InvalidActorAddressError(`send: target must be an ActorAddress, got ${describe(target)}`);
    }
    checkMessageSize(message);
    this.kernel.send(this[CELL].address, target, message);
  }

  /**
   * Returns the child's address at once; messages to it wait until it exists.
   * An actor from a loaded source creates from that source unless told
   * otherwise (`sourceHash`, or a spec with a scheme such as `file:`).
   */
  createActor(spec: ActorSpec, options: CreateOptions = {}): ActorAddress {
    const resolved = resolveSpec(spec, childSourceHash(spec, options.sourceHash, this[CELL].extra?.sourceHash));
    return this.kernel.lifecycle.create(this[CELL], resolved, options);
  }

  /**
   * Loads an actor source (a directory or archive path here, or its bytes)
   * into this system; resolves to its hash once the system has it (validated
   * or not: see registerSourceAuthority).
   */
  async loadActorSource(source: string | Uint8Array): Promise<string> {
    const { requestLoad } = await import('./sources/kernel-requests.js');
    return requestLoad(this.kernel, source);
  }

  /** Stops new creates from a source (running actors keep running); resolves to whether it was loaded. */
  async unloadActorSource(sourceHash: string): Promise<boolean> {
    const { requestUnload } = await import('./sources/kernel-requests.js');
    return requestUnload(this.kernel, sourceHash);
  }

  /** Delivers `WakeupMessage { delayMs, payload }` from itself after `delayMs`. */
  wakeupAfter(delayMs: number, payload?: unknown): void {
    if (typeof delayMs !== 'number' || !(delayMs >= 0) || !Number.isFinite(delayMs)) {
      throw new TypeError(`wakeupAfter: delayMs must be a finite number >= 0, got ${String(delayMs)}`);
    }
    this.kernel.lifecycle.wakeupAfter(this[CELL], delayMs, payload);
  }

  /** Become the system's dead-letter handler (the last registrant wins), or stop being it. */
  handleDeadLetters(start = true): void {
    this.kernel.admin({ op: 'deadLetterHandler', address: this.myAddress, start });
  }

  /** Receive ActorSystemConventionUpdate when systems join or leave the convention. */
  notifyOnSystemRegistrationChanges(start = true): void {
    this.kernel.admin({ op: 'conventionNotify', address: this.myAddress, start });
  }

  /** Become the authority that validates loaded sources (ValidateSource → ValidatedSource). */
  registerSourceAuthority(): void {
    this.kernel.admin({ op: 'sourceAuthority', address: this.myAddress });
  }

  /** Receive LoadedSource / UnloadedSource (a LoadedSource for each source loaded now first). */
  notifyOnSourceAvailability(start = true): void {
    this.kernel.admin({ op: 'sourceNotify', address: this.myAddress, start });
  }

  preRegisterRemoteSystem(address: unknown, capabilities: Capabilities = {}): void {
    this.kernel.admin({ op: 'preRegisterRemote', address, capabilities });
  }

  deRegisterRemoteSystem(address: unknown): void {
    this.kernel.admin({ op: 'deRegisterRemote', address });
  }

  /** Set (or, with no value, remove) a capability of this system. */
  updateCapability(name: string, value?: unknown): void {
    if (typeof name !== 'string' || name === '') throw new TypeError('updateCapability: name must be a non-empty string');
    this.kernel.admin({ op: 'updateCapability', name, value, remove: arguments.length < 2 || value === undefined });
  }

  /** Shut the whole system down. */
  actorSystemShutdown(): void {
    this.kernel.admin({ op: 'shutdown' });
  }

  private get kernel(): Kernel {
    return this[CELL].owner as Kernel;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
