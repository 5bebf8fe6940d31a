/**
 * ActorSystem: the public face of a running system. It owns a base (where the
 * kernels live), the admin, and the system's own endpoint for tell / ask /
 * listen.
 */
import { randomBytes } from 'node:crypto';
import { ActorAddress } from '../address.js';
import { Admin } from '../admin/admin.js';
import { NameTable } from '../admin/names.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import type { Kernel, KernelStatus } from '../core/kernel.js';
import type { CreateOptions } from '../core/lifecycle/lifecycle.js';
import type { LogRecord } from '../core/log.js';
import { ControlDone, Created, FrameKind, type ControlOp } from '../core/protocol.js';
import { resolveSpec, type ActorSpec, type ResolvedSpec } from '../core/spec.js';
import { EndpointFront, replyOnce } from '../endpoint.js';
import {
  ActorSystemShutdownError,
  InvalidActorSpecError,
  ThespisError,
  creationError,
} from '../errors.js';
import type { ActorSystemClient, ConnectOptions } from '../net/client.js';

export type { ActorSystemClient, ConnectOptions };
import type { BaseOptions, SystemBase } from '../hosts/base.js';
import type { SystemNetwork } from '../net/network.js';
import { checkNetworkOptions, makeLogSink, OUTBOUND_ONLY, type ActorSystemOptions, type BaseName } from './system-options.js';
import type { CreateOptions as SpecCreateOptions, SpecRef } from '../core/spec.js';
import { InlineBase } from '../hosts/inline.js';
import type { Startup } from '../hosts/process/process-protocol.js';
import type { RemoteHub } from '../remote/hub.js';
import type { ConnectHostOptions, RemoteHost } from '../remote/remote-host.js';
import { SystemSources } from '../sources/system-sources.js';

export type { Startup };

export type { ActorSystemOptions, BaseName };

import type { MessageEndpoint, SystemStatus } from './system-types.js';

export type { MessageEndpoint, SystemStatus };

const BASES: Record<BaseName, (options: BaseOptions) => Promise<SystemBase>> = {
  inline: async (options) => new InlineBase(options),
  workers: async (options) => {
    const { WorkersBase } = await import('../hosts/workers/workers.js');
    return WorkersBase.start(options);
  },
  processes: async (options) => new InlineBase(options, 'processes'),
};

const CREATE_TIMEOUT_MS = 60_000;
const CONTROL_TIMEOUT_MS = 10_000;

export class ActorSystem extends EndpointFront {
  private readonly admin: Admin;
  private network: SystemNetwork | null = null;
  private stopping: Promise<void> | null = null;
  private hub: RemoteHub | null = null;
  private readonly sources: SystemSources;

  private constructor(
    readonly systemId: string,
    private readonly base: SystemBase,
    private readonly names: NameTable,
    capabilities: Capabilities,
    private readonly logSink: (record: LogRecord) => void,
    sourceOptions: ActorSystemOptions['sources'],
  ) {
    super();
    this.sources = new SystemSources(base.kernel, systemId, base.kernel.adminAddress, sourceOptions, logSink);
    this.admin = new Admin(base.kernel, base.kernel.adminAddress, names, capabilities, {
      sources: this.sources.registry,
      applyCapabilities: (caps) => this.applyCapabilities(caps),
      shutdown: () => void this.shutdown(),
      log: logSink,
      conventionMembers: () => this.network?.convention.members() ?? [],
      preRegister: (address, caps) => this.preRegisterRemoteSystem(address as string, (caps ?? {}) as Capabilities),
      deRegister: (address) => this.deRegisterRemoteSystem(address as string),
      clientCreate: (spec, options, ack) => this.clientCreate(spec, options, ack),
      status: (reply) => {
        this.status().then(
          (status) => this.base.kernel.send(this.admin.address, reply, status),
          (error: unknown) => this.base.kernel.send(this.admin.address, reply, { error: String(error) }),
        );
      },
    });
    this.openEndpoints();
  }

  static async start(options: ActorSystemOptions = {}): Promise<ActorSystem> {
    const baseName = options.base ?? 'workers';
    if (!(baseName in BASES)) throw new TypeError(`ActorSystem.start: unknown base "${String(baseName)}" (inline, workers, processes)`);
    checkNetworkOptions(options);
    const capabilities = { ...(options.capabilities ?? {}) };
    const systemId = randomBytes(4).toString('hex');
    const mainKernelId = `${systemId}:main`;
    const logSink = makeLogSink(options);
    const names = new NameTable();
    const base = await BASES[baseName]({
      systemId,
      mainKernelId,
      adminAddress: new ActorAddress(mainKernelId, `${mainKernelId}.admin`),
      capabilities,
      names,
      log: logSink,
      workers: options.workers,
      resourceLimits: options.resourceLimits,
      startup: options.startup,
    });
    const system = new ActorSystem(systemId, base, names, capabilities, logSink, options.sources);
    const outboundOnly = capabilities[OUTBOUND_ONLY] === true;
    if (options.admin !== undefined || options.convention !== undefined || outboundOnly) {
      try {
        await system.startNetwork(options, outboundOnly);
      } catch (error) {
        await system.shutdown();
        throw error;
      }
    }
    return system;
  }

  /**
   * A client of a running system (one started by `thespis start`, or any
   * system with an `admin` port): resolves once that system has accepted it.
   */
  static async connect(adminAddress: string, options: ConnectOptions = {}): Promise<ActorSystemClient> {
    const { connectClient } = await import('../net/client.js');
    return connectClient(adminAddress, options);
  }

  private async startNetwork(options: ActorSystemOptions, outboundOnly: boolean): Promise<void> {
    const { SystemNetwork } = await import('../net/network.js');
    const kernel = this.base.kernel;
    this.network = await SystemNetwork.start(
      {
        systemId: this.systemId,
        kernel,
        router: this.base.router,
        names: this.names,
        capabilities: () => this.admin.capabilities,
        actors: () => this.base.approxActors(),
        notify: (address, capabilities, added) => this.admin.conventionChanged(address, capabilities, added),
        log: this.logSink,
        admitCreate: this.sources.remoteCreates(
          () => this.admin.capabilities,
          (systemId) => {
            const entry = this.network?.status(0).find((e) => e.systemId === systemId);
            return entry === undefined ? undefined : { name: entry.adminAddress, leader: entry.leader };
          },
        ),
      },
      {
        admin: options.admin,
        convention: options.convention === undefined ? undefined : { ...options.convention, leader: options.convention.leader as string | string[] | undefined },
        secret: options.secret,
        insecure: options.insecure,
        outboundOnly,
      },
    );
  }

  /** "host:port" of the admin port this system really bound, or null without one. */
  get adminAddress(): string | null {
    return this.network?.adminAddress ?? null;
  }

  /** Invite the system at `adminAddress` into this system's convention (its real capabilities replace the guessed ones once it answers). */
  preRegisterRemoteSystem(adminAddress: string, capabilities: Capabilities = {}): void {
    this.checkOpen();
    if (this.network === null) throw new ThespisError('preRegisterRemoteSystem: this system is not on the network (start it with an admin port)');
    this.network.convention.preRegister(adminAddress, capabilities);
  }

  /** End a pre-registration (or a membership) made with preRegisterRemoteSystem. */
  deRegisterRemoteSystem(adminAddress: string): void {
    this.checkOpen();
    this.network?.convention.deRegister(adminAddress);
  }

  /** Resolves to the address once the actor can receive. */
  async createActor(spec: ActorSpec, options: CreateOptions = {}): Promise<ActorAddress> {
    this.checkOpen();
    const resolved = await this.withClass(resolveSpec(spec, options.sourceHash));
    const kernel = this.base.kernel;
    const ack = replyOnce<Created>(kernel, CREATE_TIMEOUT_MS, 'createActor');
    try {
      kernel.lifecycle.create(null, resolved, options, ack.address);
    } catch (error) {
      ack.cancel();
      throw error;
    }
    const created = await ack.reply;
    if (created.error !== undefined) throw creationError(created.errorName, created.error);
    return created.address;
  }

  /**
   * Starts a runtime on another host or account (`local`, `ssh`, `sudo`, `su`,
   * optionally `via` another host) and links it to this system as a kernel;
   * resolves once it runs. See README "Remote hosts".
   */
  async connectHost(options: ConnectHostOptions): Promise<RemoteHost> {
    this.checkOpen();
    if (this.hub === null) {
      const { RemoteHub } = await import('../remote/hub.js');
      this.hub ??= new RemoteHub(this.base.kernel, this.base.router, this.logSink);
    }
    return this.hub.connect(options);
  }

  /**
   * Loads an actor source (a directory, .zip, .tgz or .tar, or its bytes) and
   * resolves to its hash once it is read; nothing from it runs until the
   * source authority validates it (a create from it waits for that).
   */
  loadActorSource(source: string | Uint8Array): Promise<string> {
    this.checkOpen();
    return this.sources.load(source);
  }

  /** Stops new creates from the source (running actors keep running); resolves to whether it was loaded. */
  async unloadActorSource(sourceHash: string): Promise<boolean> {
    this.checkOpen();
    return this.sources.unload(sourceHash);
  }

  /** Set (or with no value, remove) a capability; resolves after actors that no longer qualify stopped. */
  updateCapability(name: string, value?: unknown): Promise<void> {
    this.checkOpen();
    if (typeof name !== 'string' || name === '') throw new TypeError('updateCapability: name must be a non-empty string');
    return this.admin.updateCapability(name, value, arguments.length < 2 || value === undefined);
  }

  async status(): Promise<SystemStatus> {
    this.checkOpen();
    const kernels = [this.base.kernel.status()];
    const answers = await this.controlAll((ack) => ({ op: 'status', ack }), [...this.base.otherKernels(), ...(this.hub?.kernelIds() ?? [])]);
    for (const done of answers) if (done.detail !== undefined) kernels.push(done.detail as KernelStatus);
    const base = this.base.status();
    const actors = kernels.reduce((n, k) => n + k.actors, 0);
    return {
      systemId: this.systemId,
      pid: process.pid,
      base: this.base.name,
      adminAddress: this.adminAddress,
      actors,
      pendingMessages: kernels.reduce((n, k) => n + k.pendingMessages, 0),
      pausedActors: kernels.reduce((n, k) => n + k.pausedActors, 0),
      threads: base.threads,
      processes: base.processes,
      clients: this.network?.clientCount ?? 0,
      kernels,
      convention: this.network?.status(actors) ?? [],
      hosts: this.hub?.statuses() ?? [],
      ...this.admin.status(),
    };
  }

  /** Stop every actor (children first), every thread and process. Idempotent. */
  shutdown(): Promise<void> {
    if (this.stopping === null) {
      this.stopping = this.stop();
      this.stopping.then(this.markStopped, this.markStopped);
    }
    return this.stopping;
  }

  private markStopped!: () => void;

  /**
   * Resolves once the system has shut down, whoever asked for it: a call of
   * `shutdown()`, an actor (`actorSystemShutdown`), or a client.
   */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.markStopped = () => resolve()));

  /**
   * Each actor finishes the handler it is running and stops, children first;
   * what is still queued is dropped unhandled (core/lifecycle/shutdown.ts). Handlers
   * that never return get CONTROL_TIMEOUT_MS, then their threads and
   * processes are stopped anyway.
   */
  private async stop(): Promise<void> {
    const kernels = [this.base.kernel.id, ...this.base.otherKernels(), ...(this.hub?.kernelIds() ?? [])];
    try {
      const answers = await this.controlAll((ack) => ({ op: 'stopAll', ack }), kernels);
      const dropped = answers.reduce((sum, done) => sum + (typeof done.detail === 'number' ? done.detail : 0), 0);
      if (dropped > 0) {
        this.logSink({ level: 'info', message: `shutdown: ${dropped} queued message(s) dropped unhandled (dead letters)`, source: 'system', time: Date.now() });
      }
    } catch (error) {
      this.logSink({ level: 'warn', message: 'shutdown: some actors did not stop in time; stopping their threads', source: 'system', time: Date.now(), detail: String(error) });
    }
    const closed = new ActorSystemShutdownError('the actor system shut down');
    this.closeEndpoints(closed);
    this.sources.close();
    // After the actors: their exits reach parents on other systems before the goodbye.
    await this.network?.close();
    await this.hub?.closeAll();
    await this.base.stop();
  }

  private async applyCapabilities(capabilities: Capabilities): Promise<void> {
    await Promise.all([
      this.base.kernel.requalify(capabilities),
      this.controlAll((ack) => ({ op: 'capabilities', capabilities, ack }), [...this.base.otherKernels(), ...(this.hub?.kernelIds() ?? [])]),
    ]);
    this.network?.convention.capabilitiesChanged(capabilities);
  }

  /**
   * A spec given as "<module>#<Export>" names a class whose static
   * requirements decide where it may run (here, or on another system):
   * load it here first, as a class at hand would be.
   */
  private async withClass(resolved: ResolvedSpec): Promise<ResolvedSpec> {
    const ref = resolved.ref;
    if (ref === undefined) return resolved;
    // A source's class: once its validation is over, and only while it is loaded.
    if (ref.sourceHash !== undefined) return { ...resolved, cls: await this.sources.classFor(ref, ref.sourceHash) };
    if (resolved.cls !== undefined) return resolved;
    const cls = await this.base.kernel.host.loadClass(ref);
    return { ...resolved, cls };
  }

  /** A client's createActor: like ours, answered with Created at `ack`. */
  private clientCreate(spec: SpecRef, options: SpecCreateOptions, ack: ActorAddress): void {
    const kernel = this.base.kernel;
    const fail = (error: Error): void => {
      const address = new ActorAddress(kernel.id, kernel.nextId());
      kernel.send(this.admin.address, ack, new Created(address, error.message, error.name));
    };
    try {
      if (typeof spec?.module !== 'string' || typeof spec.exportName !== 'string') throw new InvalidActorSpecError('a client create needs a module and an export name');
      void this.withClass(resolveSpec(`${spec.module}#${spec.exportName}`, options.sourceHash)).then(
        (resolved) => {
          try {
            kernel.lifecycle.create(null, resolved, options, ack);
          } catch (error) {
            fail(error as Error);
          }
        },
        (error: unknown) => fail(error as Error),
      );
    } catch (error) {
      fail(error as Error);
    }
  }

  /**
   * Sends a control op to each kernel and waits for every answer. A kernel
   * that is gone, or goes while the op is on its way, counts as answered
   * (with no detail): it has no actors left to act on.
   */
  private async controlAll(op: (ack: ActorAddress) => ControlOp, kernelIds: string[]): Promise<ControlDone[]> {
    const kernel = this.base.kernel;
    const gone = new Map<string, () => void>();
    const listener = (kernelId: string): void => gone.get(kernelId)?.();
    kernel.downListeners.add(listener);
    try {
      return await Promise.all(
        kernelIds.map((id) => {
          const ack = replyOnce<ControlDone>(kernel, CONTROL_TIMEOUT_MS, `control ${id}`);
          const unanswered = (): Promise<ControlDone> => {
            ack.cancel();
            return Promise.resolve(new ControlDone(id));
          };
          const frame: [FrameKind.Control, ControlOp] = [FrameKind.Control, op(ack.address)];
          if (id === kernel.id) kernel.receiveFrame(frame);
          else if (!kernel.host.sendFrame(id, frame)) return unanswered();
          return new Promise<ControlDone>((resolve, reject) => {
            gone.set(id, () => void unanswered().then(resolve));
            ack.reply.then(resolve, reject);
          });
        }),
      );
    } finally {
      kernel.downListeners.delete(listener);
    }
  }

  protected get endpointKernel(): Kernel {
    return this.base.kernel;
  }

  protected checkOpen(): void {
    if (this.stopping !== null) throw new ActorSystemShutdownError('the actor system is shut down');
  }
}

