/**
 * The workers base: a pool of worker threads, each running a kernel that
 * hosts many actors (M:N), plus dedicated threads for actors that block.
 * Pool threads are linked pairwise by SAB rings; dedicated threads only to the
 * main thread, which forwards for them. When a thread dies, every kernel is
 * told (so parents get ChildActorExited and asks reject), and a pool thread is
 * replaced.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Kernel, type KernelHost, type NameRegistry, type PlacementRequest } from '../../core/kernel.js';
import type { LogRecord } from '../../core/log.js';
import type { ControlOp, Frame } from '../../core/protocol.js';
import { createRingPair } from '../../transport/thread-link.js';
import type { BaseOptions, BaseStatus, SystemBase } from '../base.js';
import { HostBasics } from '../host-basics.js';
import { choosePoolKernel, type PoolView } from './placement.js';
import { ProcessHosts } from '../process/processes.js';
import { connectThread, Router } from '../router.js';
import { checkStartup, defaultStartup } from '../startup.js';
import type { MainToWorker, PeerInfo, WorkerBoot, WorkerToMain } from './worker-protocol.js';

const ENTRY = new URL('./worker-entry.js', import.meta.url);
const STOP_GRACE_MS = 2000;

interface Thread {
  kernelId: string;
  worker: Worker;
  /** Pool slot, or -1 for a dedicated thread. */
  slot: number;
  exited: Promise<void>;
}

export class WorkersBase implements SystemBase {
  readonly name = 'workers';
  readonly kernel: Kernel;
  readonly processes: ProcessHosts;
  readonly router = new Router();
  private readonly threads = new Map<string, Thread>();
  private readonly pool: PoolView;
  private readonly loadsBuffer: SharedArrayBuffer;
  private generation = 0;
  private stopping = false;

  private constructor(private readonly options: BaseOptions, size: number) {
    this.loadsBuffer = new SharedArrayBuffer(4 * size);
    this.pool = { loads: new Int32Array(this.loadsBuffer), slots: new Array<string>(size).fill('') };
    this.kernel = new Kernel(options.mainKernelId, new MainHost(this, options.names, options.log), options.adminAddress, options.capabilities);
    this.router.congestion = this.kernel.flow.congestion;
    this.processes = new ProcessHosts({
      kernel: this.kernel,
      router: this.router,
      startup: checkStartup(options.startup, defaultStartup()),
      processPerActor: false,
      log: options.log,
    });
  }

  static async start(options: BaseOptions): Promise<WorkersBase> {
    const size = options.workers ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`workers must be a whole number >= 1, got ${String(options.workers)}`);
    const base = new WorkersBase(options, size);
    const ids = Array.from({ length: size }, () => base.newKernelId('w'));
    ids.forEach((id, slot) => (base.pool.slots[slot] = id));
    // One ring pair per pair of pool threads, made here and handed to both ends.
    const peers = new Map<string, PeerInfo[]>(ids.map((id) => [id, []]));
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const { a, b } = createRingPair();
        peers.get(ids[i]!)!.push({ kernelId: ids[j]!, rings: a });
        peers.get(ids[j]!)!.push({ kernelId: ids[i]!, rings: b });
      }
    }
    await Promise.all(ids.map((id, slot) => base.spawn(id, slot, peers.get(id)!)));
    return base;
  }

  placeInPool(): string {
    return choosePoolKernel(this.pool, -1) ?? this.kernel.id;
  }

  /** A dedicated thread for one actor (from the main thread, or asked for by a worker). */
  spawnDedicated(kernelId = this.newKernelId('d')): string {
    this.router.expect(kernelId);
    void this.spawn(kernelId, -1, []);
    return kernelId;
  }

  send(kernelId: string, frame: Frame): boolean {
    return this.router.send(kernelId, frame);
  }

  routesDirect(kernelId: string): boolean {
    return this.router.routesDirect(kernelId);
  }

  pendingInLinks(): number {
    return this.router.pending();
  }

  otherKernels(): string[] {
    return [...this.threads.keys(), ...this.processes.kernelIds()];
  }

  status(): BaseStatus {
    return { threads: this.threads.size + 1, processes: 1 + this.processes.count };
  }

  approxActors(): number {
    let n = this.kernel.cells.size + this.processes.count;
    for (let i = 0; i < this.pool.loads.length; i++) n += Atomics.load(this.pool.loads, i);
    return n;
  }

  async stop(): Promise<void> {
    await this.processes.stop();
    this.stopping = true;
    const threads = [...this.threads.values()];
    for (const t of threads) t.worker.postMessage({ type: 'stop' } satisfies MainToWorker);
    await Promise.all(
      threads.map((t) => {
        const timer = setTimeout(() => void t.worker.terminate(), STOP_GRACE_MS);
        return t.exited.finally(() => clearTimeout(timer));
      }),
    );
    this.router.closeAll();
    this.kernel.close();
  }

  private newKernelId(kind: 'w' | 'd'): string {
    return `${this.options.systemId}:${kind}${++this.generation}`;
  }

  private spawn(kernelId: string, slot: number, peers: PeerInfo[]): Promise<void> {
    const mainRings = createRingPair();
    const boot: WorkerBoot = {
      kernelId,
      mainKernelId: this.kernel.id,
      admin: { kernel: this.options.adminAddress.kernel, id: this.options.adminAddress.id },
      capabilities: this.kernel.capabilities,
      startup: this.processes.defaultStartup,
      slot,
      loads: this.loadsBuffer,
      slots: this.pool.slots,
      peers: [{ kernelId: this.kernel.id, rings: mainRings.b }, ...peers],
    };
    // Each link's port for large records (bulk-port.ts) moves to the thread with its rings.
    const transferList = boot.peers.map((peer) => peer.rings.port);
    const worker = new Worker(ENTRY, { workerData: boot, transferList, resourceLimits: this.options.resourceLimits });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const thread: Thread = { kernelId, worker, slot, exited };
    this.threads.set(kernelId, thread);
    if (slot >= 0) this.pool.slots[slot] = kernelId;
    this.router.expect(kernelId);
    worker.on('error', (error) => this.options.log({ level: 'error', message: `thread ${kernelId} failed: ${error.message}`, source: kernelId, time: Date.now(), detail: error.stack }));
    worker.once('exit', (code) => this.died(thread, code));
    return new Promise<void>((resolve, reject) => {
      worker.once('message', (message: WorkerToMain) => {
        if (message.type !== 'ready') return;
        connectThread(this.kernel, this.router, kernelId, mainRings.a);
        resolve();
      });
      worker.once('error', reject);
    });
  }

  private died(thread: Thread, code: number): void {
    this.threads.delete(thread.kernelId);
    if (this.stopping) return;
    this.options.log({ level: 'warn', message: `thread ${thread.kernelId} exited (code ${code}); reporting its actors as exited`, source: this.kernel.id, time: Date.now() });
    for (const frame of this.router.remove(thread.kernelId)) this.kernel.undeliverable(frame);
    if (thread.slot >= 0) {
      Atomics.store(this.pool.loads, thread.slot, 0);
      this.pool.slots[thread.slot] = '';
    }
    const down: MainToWorker = { type: 'down', kernelId: thread.kernelId, slot: thread.slot };
    for (const other of this.threads.values()) other.worker.postMessage(down);
    this.kernel.kernelDown(thread.kernelId);
    this.processes.announceDown(thread.kernelId);
    if (thread.slot >= 0) void this.replace(thread.slot);
  }

  /** A new pool thread in a dead one's slot, linked to every live pool thread. */
  private async replace(slot: number): Promise<void> {
    const kernelId = this.newKernelId('w');
    const peers: PeerInfo[] = [];
    for (const other of this.threads.values()) {
      if (other.slot < 0) continue;
      const { a, b } = createRingPair();
      peers.push({ kernelId: other.kernelId, rings: a });
      other.worker.postMessage({ type: 'peer', peer: { kernelId, rings: b }, slot } satisfies MainToWorker, [b.port]);
    }
    try {
      await this.spawn(kernelId, slot, peers);
    } catch (error) {
      this.options.log({ level: 'error', message: `could not replace thread in slot ${slot}`, source: this.kernel.id, time: Date.now(), detail: String(error) });
    }
  }
}

class MainHost extends HostBasics implements KernelHost {
  constructor(
    private readonly base: WorkersBase,
    readonly names: NameRegistry,
    private readonly logSink: (record: LogRecord) => void,
  ) {
    super();
  }

  sendFrame(kernelId: string, frame: Frame): boolean {
    return this.base.send(kernelId, frame);
  }

  place(request: PlacementRequest): string {
    if (request.options.host === 'process') return this.base.processes.place(request);
    if (request.options.dedicated) return this.base.spawnDedicated();
    if (request.options.host === 'inline') return this.base.kernel.id;
    return this.base.placeInPool();
  }

  log(record: LogRecord): void {
    this.logSink(record);
  }

  broadcast(frame: Frame): void {
    for (const id of this.base.otherKernels()) this.base.send(id, frame);
  }

  routesDirect(kernelId: string): boolean {
    return this.base.routesDirect(kernelId);
  }

  pendingInLinks(): number {
    return this.base.pendingInLinks();
  }

  onControl(op: ControlOp): void {
    if (op.op !== 'spawnKernel') return;
    if (op.startup !== undefined) this.base.processes.spawnKernel(op.kernelId, op.startup, op.preload);
    else this.base.spawnDedicated(op.kernelId);
  }
}
