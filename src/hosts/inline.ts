/**
 * The inline base: every actor on the thread that started the system, except
 * those asked for with `host: 'process'`. The processes base is the same
 * with the default turned around: every actor in a child process of its own,
 * unless `host` says 'inline' (or 'worker': there is no pool here, so the
 * system's own thread).
 */
import { Kernel, type KernelHost, type NameRegistry, type PlacementRequest } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import type { ControlOp, Frame } from '../core/protocol.js';
import type { BaseOptions, BaseStatus, SystemBase } from './base.js';
import { HostBasics } from './host-basics.js';
import { ProcessHosts } from './process/processes.js';
import { Router } from './router.js';
import { checkStartup, defaultStartup } from './startup.js';

class InlineHost extends HostBasics implements KernelHost {
  constructor(
    private readonly base: InlineBase,
    readonly names: NameRegistry,
    private readonly logSink: (record: LogRecord) => void,
  ) {
    super();
  }

  sendFrame(kernelId: string, frame: Frame): boolean {
    return this.base.router.send(kernelId, frame);
  }

  place(request: PlacementRequest): string {
    const host = request.options.host;
    if (host === 'process' || (host === undefined && this.base.name === 'processes')) return this.base.processes.place(request);
    return this.base.kernel.id;
  }

  log(record: LogRecord): void {
    this.logSink(record);
  }

  onControl(op: ControlOp): void {
    if (op.op === 'spawnKernel' && op.startup !== undefined) this.base.processes.spawnKernel(op.kernelId, op.startup, op.preload);
  }

  broadcast(frame: Frame): void {
    for (const id of this.base.otherKernels()) this.base.router.send(id, frame);
  }

  routesDirect(kernelId: string): boolean {
    return this.base.router.routesDirect(kernelId);
  }

  pendingInLinks(): number {
    return this.base.router.pending();
  }
}

export class InlineBase implements SystemBase {
  readonly kernel: Kernel;
  readonly router = new Router();
  readonly processes: ProcessHosts;

  constructor(
    options: BaseOptions,
    readonly name: 'inline' | 'processes' = 'inline',
  ) {
    this.kernel = new Kernel(options.mainKernelId, new InlineHost(this, options.names, options.log), options.adminAddress, options.capabilities);
    this.router.congestion = this.kernel.flow.congestion;
    this.processes = new ProcessHosts({
      kernel: this.kernel,
      router: this.router,
      startup: checkStartup(options.startup, defaultStartup()),
      processPerActor: name === 'processes',
      log: options.log,
    });
  }

  otherKernels(): string[] {
    return this.processes.kernelIds();
  }

  status(): BaseStatus {
    return { threads: 1, processes: 1 + this.processes.count };
  }

  approxActors(): number {
    return this.kernel.cells.size + this.processes.count;
  }

  async stop(): Promise<void> {
    await this.processes.stop();
    this.router.closeAll();
    this.kernel.close();
  }
}
