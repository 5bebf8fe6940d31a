/**
 * A remote host's agent: the endpoint `<kernel>.host` that does what the
 * system asks of the host itself — run a call, start a host through this one
 * (`via`), route to hosts behind it, move files — and that carries the host's
 * own requests (module graphs) and reports (hosts behind it that are gone).
 * Requests are accepted only from the system's main kernel (the kernel host
 * checks that a message to the agent comes from the kernel its envelope says),
 * and reports about hosts behind only from the child whose link they are on.
 */
import { createRequire, isBuiltin } from 'node:module';
import { ActorAddress } from '../../address.js';
import type { Cell } from '../../core/cell.js';
import { describeError } from '../../core/log.js';
import { importModule } from '../../loader/loader.js';
import { ChildHosts, type ChildLink, type PayloadBuilder, startChildHost } from '../child-hosts.js';
import { endChild } from '../bootstrap.js';
import { FileSink, FileSource } from '../files/file-ops.js';
import { servedUrl } from '../forwarded-modules.js';
import { agentId, isRecord, type AgentRequest, type MethodSpec, type RemoteBoot } from '../protocol.js';
import type { RemoteKernelHost } from './remote-kernel.js';
import { RUNTIME_SCRIPT, codeCacheTag } from '../code-cache.js';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Modules called into, by reference: a call after the first pays no import(). */
const called = new Map<string, Record<string, unknown>>();
/** Builtins are required, not imported: a first call then does not start the ESM loader (~10 ms). */
const requireBuiltin = createRequire(import.meta.url);

/** Imports `<module>#<export>` (a module served from the parent, or a builtin) and calls it. */
export async function callRef(ref: string, args: unknown[]): Promise<unknown> {
  const hash = ref.lastIndexOf('#');
  if (hash <= 0 || hash === ref.length - 1) throw new TypeError(`call: "${ref}" must be "<module>#<export>"`);
  const url = ref.slice(0, hash);
  let module = called.get(url);
  if (module === undefined) {
    module = isBuiltin(url) ? (requireBuiltin(url) as Record<string, unknown>) : await importModule(servedUrl(url));
    called.set(url, module);
  }
  const fn = module[ref.slice(hash + 1)];
  if (typeof fn !== 'function') throw new TypeError(`call: ${ref.slice(0, hash)} exports no function "${ref.slice(hash + 1)}"`);
  return await (fn as (...a: unknown[]) => unknown)(...args);
}

export class Agent {
  readonly cell: Cell;
  private readonly service: ActorAddress;
  private readonly main: string;
  private readonly waiting = new Map<number, Waiting>();
  private readonly sinks = new Map<number, FileSink>();
  private readonly sources = new Map<number, FileSource>();
  private seq = 0;

  constructor(
    private readonly host: RemoteKernelHost,
    private readonly payloads: PayloadBuilder,
  ) {
    const boot = host.boot;
    this.main = boot.mainKernelId;
    this.service = new ActorAddress(boot.service.kernel, boot.service.id);
    this.cell = host.kernel.createEndpoint({ receiveMessage: (message, from) => this.receive(message, from) }, agentId(boot.kernelId));
  }

  get children(): ChildHosts {
    return this.host.children;
  }

  /** Asks the system; resolves with its answer. */
  ask(message: Record<string, unknown>): Promise<unknown> {
    const id = ++this.seq;
    return new Promise<unknown>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.toService({ ...message, id });
    });
  }

  private toService(message: Record<string, unknown>): void {
    this.host.kernel.send(this.cell.address, this.service, message);
  }

  private reply(id: number, value: unknown): void {
    this.toService({ op: 'result', id, value });
  }

  private replyError(id: number, error: unknown, output?: string): void {
    const sent = error instanceof Error ? error : new Error(describeError(error));
    this.toService({ op: 'error', id, error: sent, output });
  }

  private receive(message: unknown, from: ActorAddress | null): void {
    if (!isRecord(message) || typeof message.op !== 'string' || from === null) return;
    if (message.op === 'down') return this.childReport(message as { ids: string[]; reason: string }, from);
    if (from.kernel !== this.main) {
      this.host.warn(`a request to the agent from ${from.kernel}, not the system; dropped`);
      return;
    }
    const request = message as AgentRequest;
    switch (request.op) {
      case 'call':
        callRef(request.ref, request.args).then(
          (value) => this.reply(request.id, value),
          (error: unknown) => this.replyError(request.id, error),
        );
        return;
      case 'answer': {
        const waiting = this.waiting.get(request.id);
        this.waiting.delete(request.id);
        if (request.error !== undefined) waiting?.reject(new Error(request.error));
        else waiting?.resolve(request.value);
        return;
      }
      case 'connect':
        this.connect(request.id, request.spec, request.boot);
        return;
      case 'code-cache': {
        // The bytecode V8 compiled for the runtime so far (scripts/remote-code-cache.mjs, at build time).
        const script = (globalThis as Record<symbol, { createCachedData(): Buffer } | undefined>)[RUNTIME_SCRIPT];
        this.reply(request.id, script === undefined ? null : { tag: codeCacheTag(), cache: new Uint8Array(script.createCachedData()) });
        return;
      }
      case 'route':
        if (!this.children.addRoute(request.kernelId, request.via)) this.host.warn(`no host ${request.via} to route ${request.kernelId} through`);
        return;
      case 'disconnect': {
        const link = this.children.links.get(request.kernelId);
        if (link === undefined) return this.reply(request.id, false);
        void link.close().then(() => this.reply(request.id, true));
        return;
      }
      case 'put-open': {
        const sink = new FileSink(
          request.path,
          request.mode,
          (count) => this.toService({ op: 'put-ack', id: request.id, count }),
          (error) => {
            this.sinks.delete(request.id);
            this.replyError(request.id, error);
          },
        );
        this.sinks.set(request.id, sink);
        return;
      }
      case 'put-data':
        this.sinks.get(request.id)?.data(request.bytes);
        return;
      case 'put-end': {
        const sink = this.sinks.get(request.id);
        if (sink === undefined) return;
        this.sinks.delete(request.id);
        sink.end(request.sha256).then(
          (size) => this.reply(request.id, size),
          (error: unknown) => this.replyError(request.id, error),
        );
        return;
      }
      case 'get-open': {
        const source = new FileSource(
          request.path,
          request.window,
          request.chunkBytes,
          (bytes) => this.toService({ op: 'get-data', id: request.id, bytes }),
          (end) => {
            this.sources.delete(request.id);
            this.toService({ op: 'get-end', id: request.id, ...end });
          },
          (error) => {
            this.sources.delete(request.id);
            this.replyError(request.id, error);
          },
        );
        this.sources.set(request.id, source);
        void source.start();
        return;
      }
      case 'get-ack':
        this.sources.get(request.id)?.ack(request.count);
        return;
      case 'abort':
        this.sinks.get(request.id)?.abort(new Error('aborted by the system'));
        this.sinks.delete(request.id);
        this.sources.get(request.id)?.abort();
        this.sources.delete(request.id);
        return;
      default:
        return;
    }
  }

  private connect(id: number, spec: MethodSpec, boot: RemoteBoot): void {
    startChildHost(spec, boot, this.payloads, {
      onRecord: (link, record) => this.host.fromChild(link, record),
      onClosed: (link, error) => this.childGone(link, error?.message ?? 'its link ended'),
    }).then(
      (started) => {
        if (started.stream.isClosed) return this.replyError(id, new Error(`${boot.name}: its link ended as it booted`));
        this.children.add(started);
        for (const stream of started.logs) stream.pipe(process.stderr, { end: false });
        this.reply(id, started.child.pid ?? 0);
      },
      (error: unknown) => this.replyError(id, error, (error as { output?: string }).output),
    );
  }

  /** A host started through this one ended: every kernel behind it is gone here and above. */
  private childGone(link: ChildLink, reason: string): void {
    const ids = this.children.remove(link);
    void endChild(link.child);
    this.gone(ids, `${link.kernelId}: ${reason}`);
  }

  /** A child says hosts behind it are gone: only those it leads to are believed. */
  private childReport(report: { ids: unknown; reason: unknown }, from: ActorAddress): void {
    const link = this.children.links.get(from.kernel);
    if (link === undefined || !Array.isArray(report.ids)) return;
    const ids = this.children.forget(link, report.ids.filter((id): id is string => typeof id === 'string'));
    this.gone(ids, String(report.reason));
  }

  private gone(ids: string[], reason: string): void {
    if (ids.length === 0) return;
    for (const id of ids) {
      this.host.forgetKernel(id);
      this.host.kernel.kernelDown(id);
    }
    const report = { op: 'down', ids, reason };
    const parent = this.host.boot.parentKernelId;
    if (parent === this.main) this.toService(report);
    else this.host.kernel.send(this.cell.address, new ActorAddress(parent, agentId(parent)), report);
  }

  /** The link to the parent ended: end every host started through this one. */
  async closeChildren(): Promise<void> {
    await Promise.all([...this.children.links.values()].map((link) => link.close()));
  }
}
