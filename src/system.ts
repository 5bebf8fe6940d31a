/**
 * ActorSystem: the public face of a running system. It owns a base (where the
 * kernels live), the admin, and the system's own endpoint for tell / ask /
 * listen.
 */
import { randomBytes } from 'node:crypto';
import type { ResourceLimits } from 'node:worker_threads';
import { ActorAddress } from './address.js';
import { Admin, type AdminStatus } from './admin/admin.js';
import { NameTable } from './admin/names.js';
import type { Capabilities } from './core/capabilities.js';
import type { KernelStatus } from './core/kernel.js';
import type { CreateOptions } from './core/lifecycle.js';
import { LOG_LEVELS, type LogLevel, type LogRecord } from './core/log.js';
import { ControlDone, Created, FrameKind, type ControlOp } from './core/protocol.js';
import { resolveSpec, type ActorSpec } from './core/spec.js';
import { Endpoint, replyOnce } from './endpoint.js';
import {
  ActorCreationError,
  ActorSystemShutdownError,
  InvalidActorSpecError,
  NoCompatibleSystemError,
  ThespisError,
} from './errors.js';
import type { BaseOptions, SystemBase } from './hosts/base.js';
import { InlineBase } from './hosts/inline.js';
import type { Startup } from './hosts/process/process-protocol.js';

export type { Startup };

export type BaseName = 'inline' | 'workers' | 'processes';

export interface ActorSystemOptions {
  /** Where actors run. Default `'workers'`. */
  base?: BaseName;
  /** Worker thread count for the workers base. Default: available parallelism. */
  workers?: number;
  /**
   * Limits for each worker thread (heap sizes, stack size), as for `new Worker`.
   * A thread that hits one dies like a crashing thread: its actors are
   * reported exited and the thread is replaced.
   */
  resourceLimits?: ResourceLimits;
  /** How process actors start. Default: `forkserver` where the addon is built, else `spawn`. */
  startup?: Startup;
  capabilities?: Capabilities;
  /** Receives every log record at or above `logLevel`. Default: warnings and errors to stderr. */
  logger?: (record: LogRecord) => void;
  logLevel?: LogLevel;
  admin?: { port: number; host?: string };
  convention?: { leader: string };
  secret?: string;
}

/** What `tell` / `ask` / `listen` are available on: the system itself, or a `private()` endpoint. */
export interface MessageEndpoint {
  readonly address: ActorAddress;
  tell(target: ActorAddress, message: unknown): void;
  ask(target: ActorAddress, message: unknown, timeoutMs?: number): Promise<unknown>;
  listen(timeoutMs?: number): Promise<unknown>;
}

export interface SystemStatus extends AdminStatus {
  systemId: string;
  base: BaseName;
  actors: number;
  pendingMessages: number;
  threads: number;
  processes: number;
  kernels: KernelStatus[];
  convention: string[];
}

const BASES: Record<BaseName, (options: BaseOptions) => Promise<SystemBase>> = {
  inline: async (options) => new InlineBase(options),
  workers: async (options) => {
    const { WorkersBase } = await import('./hosts/workers/workers.js');
    return WorkersBase.start(options);
  },
  processes: async (options) => new InlineBase(options, 'processes'),
};

const CREATE_TIMEOUT_MS = 60_000;
const CONTROL_TIMEOUT_MS = 10_000;

export class ActorSystem implements MessageEndpoint {
  private readonly endpoint: Endpoint;
  private readonly endpoints = new Set<Endpoint>();
  private readonly admin: Admin;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly systemId: string,
    private readonly base: SystemBase,
    names: NameTable,
    capabilities: Capabilities,
    private readonly logSink: (record: LogRecord) => void,
  ) {
    this.admin = new Admin(base.kernel, base.kernel.adminAddress, names, capabilities, {
      applyCapabilities: (caps) => this.applyCapabilities(caps),
      shutdown: () => void this.shutdown(),
      log: logSink,
    });
    this.endpoint = this.newEndpoint();
  }

  static async start(options: ActorSystemOptions = {}): Promise<ActorSystem> {
    const baseName = options.base ?? 'workers';
    if (!(baseName in BASES)) throw new TypeError(`ActorSystem.start: unknown base "${String(baseName)}" (inline, workers, processes)`);
    if (options.admin !== undefined || options.convention !== undefined) {
      throw new ThespisError('ActorSystem.start: admin ports and conventions are not available in this release');
    }
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
    return new ActorSystem(systemId, base, names, capabilities, logSink);
  }

  get address(): ActorAddress {
    return this.endpoint.address;
  }

  /** Resolves to the address once the actor can receive. */
  async createActor(spec: ActorSpec, options: CreateOptions = {}): Promise<ActorAddress> {
    this.checkOpen();
    const resolved = resolveSpec(spec, options.sourceHash);
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

  tell(target: ActorAddress, message: unknown): void {
    this.endpoint.tell(target, message);
  }

  ask(target: ActorAddress, message: unknown, timeoutMs?: number): Promise<unknown> {
    return this.endpoint.ask(target, message, timeoutMs);
  }

  listen(timeoutMs?: number): Promise<unknown> {
    return this.endpoint.listen(timeoutMs);
  }

  /** A separate endpoint with its own tell / ask / listen. */
  private(): MessageEndpoint {
    this.checkOpen();
    return this.newEndpoint();
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
    const answers = await this.controlAll((ack) => ({ op: 'status', ack }), this.base.otherKernels());
    for (const done of answers) if (done.detail !== undefined) kernels.push(done.detail as KernelStatus);
    const base = this.base.status();
    return {
      systemId: this.systemId,
      base: this.base.name,
      actors: kernels.reduce((n, k) => n + k.actors, 0),
      pendingMessages: kernels.reduce((n, k) => n + k.pendingMessages, 0),
      threads: base.threads,
      processes: base.processes,
      kernels,
      convention: [],
      ...this.admin.status(),
    };
  }

  /** Stop every actor (children first), every thread and process. Idempotent. */
  shutdown(): Promise<void> {
    return (this.stopping ??= this.stop());
  }

  /**
   * Each actor finishes the handler it is running and stops, children first;
   * what is still queued is dropped unhandled (core/shutdown.ts). Handlers
   * that never return get CONTROL_TIMEOUT_MS, then their threads and
   * processes are stopped anyway.
   */
  private async stop(): Promise<void> {
    const kernels = [this.base.kernel.id, ...this.base.otherKernels()];
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
    for (const endpoint of this.endpoints) endpoint.close(closed);
    await this.base.stop();
  }

  private async applyCapabilities(capabilities: Capabilities): Promise<void> {
    await Promise.all([
      this.base.kernel.requalify(capabilities),
      this.controlAll((ack) => ({ op: 'capabilities', capabilities, ack }), this.base.otherKernels()),
    ]);
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

  private newEndpoint(): Endpoint {
    const endpoint = new Endpoint(this.base.kernel);
    this.endpoints.add(endpoint);
    return endpoint;
  }

  private checkOpen(): void {
    if (this.stopping !== null) throw new ActorSystemShutdownError('the actor system is shut down');
  }
}

function creationError(name: string | undefined, message: string): Error {
  if (name === 'NoCompatibleSystemError') return new NoCompatibleSystemError(message);
  if (name === 'InvalidActorSpecError') return new InvalidActorSpecError(message);
  return new ActorCreationError(`actor creation failed: ${message}`);
}

function makeLogSink(options: ActorSystemOptions): (record: LogRecord) => void {
  const threshold = LOG_LEVELS[options.logLevel ?? 'warn'];
  const out =
    options.logger ??
    ((record: LogRecord) => {
      const detail = record.detail === undefined ? '' : ` ${typeof record.detail === 'string' ? record.detail : JSON.stringify(record.detail)}`;
      process.stderr.write(`[thespis ${record.level}] ${record.source}: ${record.message}${detail}\n`);
    });
  return (record) => {
    if (LOG_LEVELS[record.level] >= threshold) out(record);
  };
}
