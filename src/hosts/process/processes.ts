/**
 * Process kernels of one system, managed from the system's process: it
 * starts them (spawn, or fork from a zygote), accepts their connections on a
 * private Unix socket, routes between them, and reports them when they end.
 *
 * Routing. Every process kernel has one link, to here. An envelope from a
 * process names its destination: for this kernel it is decoded and
 * delivered; for another process it is forwarded as it came (no decoding:
 * the two ends hold the codec state, see transport/channel.ts); for a worker
 * thread it is decoded here and re-sent on that thread's link. Two
 * processes that talk a lot are given a direct link, and a process retires
 * only once the mail others sent it is out (process-peering.ts).
 *
 * Trust. A process runs user code and its bytes are untrusted: envelopes
 * must name their own process as source, frames are size-, depth- and
 * shape-checked, and a process that breaks the protocol loses its link (and
 * is killed) — nothing else is affected.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernel, PlacementRequest } from '../../core/kernel.js';
import type { LogRecord } from '../../core/log.js';
import { FrameKind, type Frame } from '../../core/protocol.js';
import { CodecError } from '../../errors.js';
import { Channel } from '../../transport/channel.js';
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { native } from '../../native.js';
import { doneWith, isPooled } from '../../transport/buffer-pool.js';
import { refuseFrame } from '../refusal.js';
import { envelopeFdCount, openEnvelope } from '../../transport/envelope.js';
import { FdLink, closeAll, closeFd, type RecordLink } from '../../transport/fd-link.js';
import { StreamLink } from '../../transport/stream-link.js';
import { newProcessKernelId } from './process-ids.js';
import { ProcessLink } from './process-link.js';
import { bootRecord, readHello, type ProcessBoot, type Startup } from './process-protocol.js';
import type { Router } from '../router.js';
import { Peering } from './process-peering.js';
import { SpareProcesses } from './spare-process.js';
import { checkStartup } from '../startup.js';
import { Zygote, type ChildExitReport } from './zygote-client.js';

const ENTRY = fileURLToPath(new URL('./process-entry.js', import.meta.url));
const HELLO_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 2000;
/** Forkserver processes kept forked and warm ahead of need (spare-process.ts). */
const SPARES = 1;

export interface ProcessHostsOptions {
  kernel: Kernel;
  router: Router;
  /** Default startup of the system. */
  startup: Startup;
  /** The processes base: an actor created in a process with no `host` gets a process of its own. */
  processPerActor: boolean;
  log(record: LogRecord): void;
}

export class ProcessHosts {
  private readonly links = new Map<string, ProcessLink>();
  private readonly byPid = new Map<number, ProcessLink>();
  /** Links that are down, whose process has not been seen to exit yet. */
  private readonly lingering = new Set<ProcessLink>();
  private readonly zygotes = new Map<Startup, Promise<Zygote>>();
  private readonly spare = new SpareProcesses(SPARES, (pid) =>
    this.options.log({ level: 'debug', message: `spare process ${pid} is warm`, source: this.kernel.id, time: Date.now() }),
  );
  private readonly peering: Peering;
  private listening: Promise<{ server: Server; path: string; dir: string }> | null = null;
  private stopping = false;
  private readonly kernel: Kernel;
  private readonly router: Router;

  constructor(private readonly options: ProcessHostsOptions) {
    this.kernel = options.kernel;
    this.router = options.router;
    this.peering = new Peering(this.links, {
      retired: (link) => this.down(link, undefined),
      broken: (link, what) => this.broken(link, what),
      warn: (message) => this.warn(message),
    });
  }

  /** A new process kernel for the actor in `request`; returns its id at once. */
  place(request: PlacementRequest): string {
    const startup = checkStartup(request.options.startup, this.options.startup);
    const kernelId = newProcessKernelId(this.kernel.id);
    this.spawnKernel(kernelId, startup, request.spec.ref?.module);
    return kernelId;
  }

  /** Start a process kernel under `kernelId` (asked for by another kernel); frames for it wait until it connects. */
  spawnKernel(kernelId: string, startup: Startup, preload?: string): void {
    if (this.links.has(kernelId) || this.stopping) return;
    // A served module (a loadable source's) cannot load in a zygote, which has
    // no loader hook, and the failed import would stay cached in its children.
    if (preload?.startsWith('thespis-mod:')) preload = undefined;
    const link = new ProcessLink(kernelId, this.kernel.id, startup, randomBytes(16).toString('hex'));
    link.channel.onDropped = (count, error) =>
      this.options.log({ level: 'warn', message: `${count} frame(s) to ${kernelId} could not be encoded; dropped`, source: this.kernel.id, time: Date.now(), detail: String(error) });
    link.channel.onRefused = (frame, error) => refuseFrame(this.kernel, frame, error);
    this.links.set(kernelId, link);
    this.router.add(kernelId, link);
    this.start(link, preload).catch((error: unknown) => {
      link.markExited();
      this.down(link, error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** How process kernels start when a create does not say. */
  get defaultStartup(): Startup {
    return this.options.startup;
  }

  kernelIds(): string[] {
    return [...this.links.keys()];
  }

  get count(): number {
    return this.links.size;
  }

  /** Another kernel (a worker thread) died: every process must hear of it. */
  announceDown(kernelId: string): void {
    const frame: Frame = [FrameKind.Control, { op: 'kernelDown', kernelId }];
    for (const link of this.links.values()) link.send(link.kernelId, frame);
  }

  /** End every link, wait for the processes to leave (killing stragglers), then the zygotes. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.spare.close();
    const links = [...this.links.values(), ...this.lingering];
    this.peering.stop();
    for (const link of links) link.close();
    await Promise.all(
      links.map(async (link) => {
        if (!(await settlesWithin(link.exited, STOP_GRACE_MS))) {
          link.kill();
          await settlesWithin(link.exited, STOP_GRACE_MS);
        }
      }),
    );
    await Promise.all(
      [...this.zygotes.values()].map(async (starting) => {
        const zygote = await starting.catch(() => null);
        if (zygote !== null && !(await settlesWithin(zygote.stop(), STOP_GRACE_MS * 2))) zygote.kill();
      }),
    );
    const listening = await this.listening?.catch(() => null);
    if (listening) {
      listening.server.close();
      rmSync(listening.dir, { recursive: true, force: true });
    }
  }

  // ---- starting ----------------------------------------------------------

  /**
   * With the addon, the link is a socket pair made here (it carries
   * descriptors, and the child is linked from its first instruction); the
   * child's end is inherited (spawn) or handed to the zygote with the fork
   * command. Without it, a spawned child connects back to our socket path.
   */
  private async start(link: ProcessLink, preload: string | undefined): Promise<void> {
    const k = this.kernel;
    const boot: ProcessBoot = {
      kernelId: link.kernelId,
      mainKernelId: k.id,
      admin: { kernel: k.adminAddress.kernel, id: k.adminAddress.id },
      capabilities: k.capabilities,
      startup: this.options.startup,
      processPerActor: this.options.processPerActor,
    };
    if (native === null) {
      const { path } = await this.listen();
      if (link.isDown) return link.markExited();
      this.spawnChild(link, { ...boot, socketPath: path, token: link.token }, 'ignore');
      return;
    }
    const zygote = link.startup === 'spawn' ? null : await this.zygote(link.startup);
    if (link.isDown) return link.markExited();
    if (zygote !== null && link.startup === 'forkserver') {
      const spare = this.spare.take();
      this.spare.fill(zygote);
      if (spare !== null) {
        link.pid = spare.pid;
        this.byPid.set(spare.pid, link);
        spare.stream.write(bootRecord(boot));
        this.attach(link, spare.stream);
        return;
      }
    }
    const [mine, theirs] = native.socketPair();
    this.attach(link, new FdLink(mine, DEFAULT_LIMITS.maxFrameBytes, envelopeFdCount, { onRecord: () => undefined, onClosed: () => undefined }));
    if (zygote === null) {
      try {
        this.spawnChild(link, { ...boot, linkFd: 3 }, theirs);
      } finally {
        closeFd(theirs);
      }
      return;
    }
    link.pid = await zygote.fork(boot, theirs, link.startup === 'fork' ? preload : undefined);
    this.byPid.set(link.pid, link);
    if (link.isDown) link.kill();
  }

  private spawnChild(link: ProcessLink, boot: ProcessBoot, linkEnd: number | 'ignore'): void {
    const child = spawn(process.execPath, [ENTRY, JSON.stringify(boot)], { stdio: ['ignore', 'inherit', 'inherit', linkEnd] });
    link.child = child;
    child.once('error', (error) => this.down(link, error));
    child.once('exit', (code, signal) => this.exited(link, code, signal));
  }

  private zygote(kind: 'fork' | 'forkserver'): Promise<Zygote> {
    let starting = this.zygotes.get(kind);
    if (starting === undefined) {
      starting = Zygote.start(kind, (exit) => this.forkedExit(exit));
      starting.then((zygote) => void zygote.exited.then(() => this.zygoteGone(kind))).catch(() => this.zygotes.delete(kind));
      this.zygotes.set(kind, starting);
    }
    return starting;
  }

  /** A zygote ended: its children died with it (parent-death signal). A later fork starts a new one. */
  private zygoteGone(kind: Startup): void {
    if (!this.stopping) this.options.log({ level: 'warn', message: `the ${kind} zygote exited`, source: this.kernel.id, time: Date.now() });
    this.zygotes.delete(kind);
    for (const link of this.links.values()) {
      if (link.startup === kind && link.child === null) this.exited(link, null, 'SIGKILL');
    }
  }

  private forkedExit(exit: ChildExitReport): void {
    const link = this.byPid.get(exit.pid);
    if (link !== undefined) this.exited(link, exit.code, exit.signal);
  }

  private listen(): Promise<{ server: Server; path: string; dir: string }> {
    return (this.listening ??= new Promise((resolve, reject) => {
      // A directory only this user can enter: the socket path is not guessable and not reachable by others.
      const dir = mkdtempSync(join(tmpdir(), 'thespis-'));
      const path = join(dir, 'kernels.sock');
      const server = createServer((socket) => this.accept(socket));
      server.once('error', reject);
      server.listen(path, () => resolve({ server, path, dir }));
    }));
  }

  // ---- connections and routing -------------------------------------------

  /** A process dialled back (no addon): its first record must be its hello (kernel id and token). */
  private accept(socket: Socket): void {
    const timer = setTimeout(() => stream.destroy(new Error('no hello')), HELLO_TIMEOUT_MS).unref();
    const stream: StreamLink = new StreamLink(socket, DEFAULT_LIMITS.maxFrameBytes, {
      onRecord: (record) => {
        clearTimeout(timer);
        const hello = readHello(record);
        const link = hello === null ? undefined : this.links.get(hello.kernelId);
        if (link === undefined || link.stream !== null || hello?.token !== link.token) {
          this.warn('a connection that is not one of our processes was refused');
          stream.destroy(new Error('bad hello'));
          return;
        }
        this.attach(link, stream);
        link.confirm();
      },
      onClosed: () => clearTimeout(timer),
    });
  }

  /** `stream` is `link`'s from now on; on a socket pair, the first record is the child's hello. */
  private attach(link: ProcessLink, stream: RecordLink): void {
    stream.handlers = {
      onRecord: (record, fds) => {
        if (link.confirmed) return this.route(link, record, fds);
        closeAll(fds);
        if (readHello(record)?.kernelId === link.kernelId) link.confirm();
        else this.broken(link, 'a first record that is not its hello');
      },
      onClosed: (error) => {
        // The link checks framing and descriptors itself and closes on a breach.
        if (error instanceof CodecError) this.broken(link, 'bytes that break the framing', error);
        this.down(link, error);
      },
    };
    link.connect(stream);
  }

  private route(link: ProcessLink, record: Uint8Array, fds: readonly number[]): void {
    const envelope = openEnvelope(record);
    if (envelope === null || envelope.source !== link.kernelId) {
      closeAll(fds);
      this.broken(link, 'a record that is not an envelope from that process');
      return;
    }
    const destination = envelope.destination;
    if (destination === this.kernel.id) {
      let frames: Frame[];
      try {
        frames = link.channel.receive(envelope.payload, fds, true, isPooled(record.buffer));
      } catch (error) {
        this.broken(link, 'a bad batch', error);
        return;
      }
      if (!link.channel.tookViews) doneWith(record);
      for (const frame of frames) {
        if (frame[0] !== FrameKind.Control || !this.peering.fromProcess(link, frame[1])) this.kernel.receiveFrame(frame);
      }
      return;
    }
    const target = this.links.get(destination);
    if (target !== undefined) {
      target.forward(record, fds);
      if (target.congested) this.router.tellOrigin(target, destination, link.kernelId);
      this.peering.forwarded(link, target, record.length);
      return;
    }
    this.proxy(link, destination, envelope.payload, fds);
  }

  /** An envelope for a thread kernel (decoded and re-sent), or for a kernel that is gone. */
  private proxy(link: ProcessLink, destination: string, payload: Uint8Array, fds: readonly number[]): void {
    let channel = link.proxies.get(destination);
    if (channel === undefined) {
      channel = new Channel(link.kernelId, destination, () => undefined);
      link.proxies.set(destination, channel);
    }
    let frames: Frame[];
    try {
      // Not for this kernel: handed-off sockets stay descriptors, moved on by the thread link.
      frames = channel.receive(payload, fds, false, isPooled(payload.buffer));
      if (!channel.tookViews) doneWith(payload);
    } catch (error) {
      if (this.router.has(destination)) {
        this.broken(link, `a bad batch for ${destination}`, error);
      } else {
        // Sent before its sender heard the destination was gone: the batch
        // may reference definitions that went to the dead process.
        link.proxies.delete(destination);
        this.warn(`a batch from ${link.kernelId} to ${destination}, which is gone, could not be read; its frames are lost`);
      }
      return;
    }
    for (const frame of frames) {
      if (!this.router.forward(destination, frame, link.kernelId)) this.kernel.undeliverable(frame);
    }
  }

  // ---- ends --------------------------------------------------------------

  private exited(link: ProcessLink, code: number | null, signal: string | null): void {
    link.markExited();
    this.byPid.delete(link.pid);
    if (!this.stopping && (code !== 0 || signal !== null)) {
      this.warn(`process kernel ${link.kernelId} (pid ${link.pid || link.child?.pid}) exited with ${signal ?? `code ${code}`}`);
    }
    this.down(link, undefined);
  }

  private broken(link: ProcessLink, what: string, error?: unknown): void {
    this.options.log({ level: 'error', message: `process kernel ${link.kernelId} sent ${what}; closing its link`, source: this.kernel.id, time: Date.now(), detail: error === undefined ? undefined : String(error) });
    link.stream?.destroy(new Error(what));
    link.kill();
  }

  /** The process is gone (or its link is): its actors are reported exited everywhere. */
  private down(link: ProcessLink, error: Error | undefined): void {
    if (link.isDown) return;
    link.isDown = true;
    this.links.delete(link.kernelId);
    // Its kernel leaves when its link ends; one that does not (hostile, or
    // hung) is killed, so no process outlives its link for long.
    this.lingering.add(link);
    void settlesWithin(link.exited, STOP_GRACE_MS).then((left) => {
      if (!left) link.kill();
    });
    void link.exited.then(() => this.lingering.delete(link));
    this.peering.gone(link);
    if (error !== undefined && !this.stopping) this.warn(`process kernel ${link.kernelId} is gone: ${error.message}`);
    for (const frame of this.router.remove(link.kernelId)) this.kernel.undeliverable(frame);
    if (this.stopping) return;
    this.kernel.kernelDown(link.kernelId);
    const frame: Frame = [FrameKind.Control, { op: 'kernelDown', kernelId: link.kernelId }];
    for (const other of this.router.ids()) this.router.send(other, frame);
  }

  private warn(message: string): void {
    this.options.log({ level: 'warn', message, source: this.kernel.id, time: Date.now() });
  }
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(
      () => (clearTimeout(timer), resolve(true)),
      () => (clearTimeout(timer), resolve(true)),
    );
  });
}
