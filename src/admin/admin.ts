/**
 * The admin: the system's authority, an endpoint on the main kernel. Kernels
 * send it AdminRequests (dead letters, registrations, capability changes, log
 * records, shutdown) and it is the parent of every top-level actor.
 */
import type { ActorAddress } from '../address.js';
import { AdminRequest, type AdminOp } from '../core/admin-request.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import { systemOf } from '../core/flow/flow.js';
import type { Kernel } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import { ControlDone } from '../core/protocol.js';
import type { CreateOptions, SpecRef } from '../core/spec.js';
import { ActorSystemConventionUpdate, ChildActorExited, DeadEnvelope } from '../messages.js';
import { handleSourceOp } from '../sources/admin-ops.js';
import type { SourceRegistry, SourceStatus } from '../sources/registry.js';
import type { NameTable } from './names.js';

export interface AdminHooks {
  /** Apply new capabilities on every kernel; resolves once unqualified actors stopped. */
  applyCapabilities(capabilities: Capabilities): Promise<void>;
  /** An actor (or a client) asked for the whole system to shut down. */
  shutdown(): void;
  log(record: LogRecord): void;
  /** The convention's members, for a new watcher (none without a network). */
  conventionMembers(): Array<{ adminAddress: string; capabilities: Capabilities }>;
  preRegister(address: unknown, capabilities: unknown): void;
  deRegister(address: unknown): void;
  /** A client's create: answer `ack` with Created. */
  clientCreate(spec: SpecRef, options: CreateOptions, ack: ActorAddress): void;
  /** The system's status, sent to `reply`. */
  status(reply: ActorAddress): void;
  /** Loadable sources: the authority protocol's bookkeeping (src/sources). */
  readonly sources: SourceRegistry;
}

export interface AdminStatus {
  deadLetters: { delivered: number; dropped: number; handler: string | null };
  globalNames: number;
  capabilities: Capabilities;
  /** Loadable sources loaded or being validated. */
  sources: SourceStatus[];
  /** The source authority's address (its text form), or null while none is registered (loads are ignored). */
  sourceAuthority: string | null;
}

export class Admin {
  capabilities: Capabilities;
  private deadLetterHandler: ActorAddress | null = null;
  private deadDelivered = 0;
  private deadDropped = 0;
  readonly conventionWatchers = new Map<string, ActorAddress>();
  private capabilityChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly kernel: Kernel,
    readonly address: ActorAddress,
    private readonly names: NameTable,
    capabilities: Capabilities,
    private readonly hooks: AdminHooks,
  ) {
    this.capabilities = { ...capabilities };
    kernel.createEndpoint({ receiveMessage: (message, sender) => this.receive(message, sender) }, address.id);
  }

  private receive(message: unknown, sender: ActorAddress | null): void {
    if (message instanceof AdminRequest) this.handle(message.request, sender);
    else if (message instanceof ChildActorExited) return; // top-level exits: the system does not pass them on
    else this.hooks.sources.answer(message, sender); // the source authority's answers
  }

  private handle(op: AdminOp, sender: ActorAddress | null): void {
    switch (op.op) {
      case 'deadLetter':
        this.deadLetter(op.to, op.body, op.from);
        return;
      case 'deadLetterHandler':
        if (op.start) this.deadLetterHandler = op.address;
        else if (this.deadLetterHandler?.equals(op.address)) this.deadLetterHandler = null;
        return;
      case 'conventionNotify':
        this.toggle(this.conventionWatchers, op.address, op.start);
        // Every member already known first, as Thespian does.
        if (op.start) {
          for (const member of this.hooks.conventionMembers()) {
            this.kernel.send(this.address, op.address, new ActorSystemConventionUpdate(member.adminAddress, member.capabilities, true));
          }
        }
        return;
      case 'sourceNotify':
      case 'sourceAuthority':
      case 'sourceLoad':
      case 'sourceUnload':
      case 'sourceOpen':
        handleSourceOp(op, sender, {
          systemId: systemOf(this.kernel.id),
          registry: this.hooks.sources,
          send: (to, body) => this.kernel.send(this.address, to, body),
          warn: (message) => this.hooks.log({ level: 'warn', message, source: 'admin', time: Date.now() }),
        });
        return;
      case 'updateCapability': {
        const done = this.updateCapability(op.name, op.value, op.remove);
        if (op.ack !== undefined) {
          const ack = op.ack;
          void done.then(
            () => this.kernel.send(this.address, ack, new ControlDone(this.kernel.id)),
            (error: unknown) => this.kernel.send(this.address, ack, new ControlDone(this.kernel.id, String(error))),
          );
        }
        return;
      }
      case 'clientCreate':
        this.hooks.clientCreate(op.spec, op.options, op.ack);
        return;
      case 'status':
        this.hooks.status(op.reply);
        return;
      case 'nameReleased':
        this.names.release(op.name, op.hostKernel);
        return;
      case 'aliasReleased':
        this.names.unalias(op.id, op.hostKernel);
        return;
      case 'createNamed':
        try {
          this.kernel.lifecycle.create(null, { ref: op.spec, label: op.spec.exportName }, { globalName: op.name, requirements: op.requirements });
        } catch (error) {
          this.hooks.log({ level: 'warn', message: `creating global name "${op.name}" failed: ${(error as Error).message}`, source: 'admin', time: Date.now() });
        }
        return;
      case 'shutdown':
        this.hooks.shutdown();
        return;
      case 'log':
        this.hooks.log(op.record);
        return;
      case 'preRegisterRemote':
        this.guard(op.op, () => this.hooks.preRegister(op.address, op.capabilities));
        return;
      case 'deRegisterRemote':
        this.guard(op.op, () => this.hooks.deRegister(op.address));
        return;
    }
  }

  /**
   * Changes are applied one after another, so two quick updates cannot race
   * each other's requalification.
   */
  updateCapability(name: string, value: unknown, remove: boolean): Promise<void> {
    const next = { ...this.capabilities };
    if (remove) delete next[name];
    else next[name] = value;
    this.capabilities = next;
    const run = this.capabilityChain.then(() => this.hooks.applyCapabilities(next));
    this.capabilityChain = run.catch(() => undefined);
    return run;
  }

  private deadLetter(to: ActorAddress, body: unknown, from: ActorAddress | null): void {
    const handler = this.deadLetterHandler;
    if (handler === null || body instanceof DeadEnvelope) {
      // A DeadEnvelope that is itself dead means the handler is gone: forget it.
      if (body instanceof DeadEnvelope && handler !== null && handler.equals(to)) this.deadLetterHandler = null;
      this.deadDropped++;
      return;
    }
    this.deadDelivered++;
    this.kernel.send(from, handler, new DeadEnvelope(to, body));
  }

  /** Tell every convention watcher that a member joined (or changed) or left. */
  conventionChanged(adminAddress: string, capabilities: Capabilities, added: boolean): void {
    for (const watcher of this.conventionWatchers.values()) {
      this.kernel.send(this.address, watcher, new ActorSystemConventionUpdate(adminAddress, { ...capabilities }, added));
    }
  }

  private guard(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.hooks.log({ level: 'warn', message: `${what}: ${(error as Error).message}`, source: 'admin', time: Date.now() });
    }
  }

  private toggle(set: Map<string, ActorAddress>, address: ActorAddress, start: boolean): void {
    if (start) set.set(address.id, address);
    else set.delete(address.id);
  }

  status(): AdminStatus {
    return {
      deadLetters: { delivered: this.deadDelivered, dropped: this.deadDropped, handler: this.deadLetterHandler?.id ?? null },
      globalNames: this.names.size,
      capabilities: { ...this.capabilities },
      sources: this.hooks.sources.status(),
      sourceAuthority: this.hooks.sources.authorityAddress,
    };
  }
}
