/**
 * The system's side of its remote hosts: it starts them (directly, or
 * through another host), routes between their links and the system's other
 * kernels, serves their module requests, and reports them gone.
 *
 * Every host is a kernel with an id `<system>:h<random>`. The system's Router
 * knows each one (so actors anywhere in the system reach it as any other
 * kernel); its frames leave on a channel main ↔ host, down the link of the
 * directly started host it lies behind. From a link, an envelope whose source
 * does not lie behind it closes that link; envelopes for the main kernel are
 * decoded here, for another host passed on as they came, and for a thread or
 * process kernel decoded and re-sent on its link.
 *
 * Requests to a host's agent (calls, connects through it, files) and the
 * hosts' own requests travel as messages between the system's host service
 * (an endpoint on the main kernel, `<main>.remote`) and each agent.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ActorAddress } from '../address.js';
import type { Cell } from '../core/cell.js';
import type { Kernel } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import { FrameKind, type Frame } from '../core/protocol.js';
import type { Router } from '../hosts/router.js';
import { Channel } from '../transport/channel.js';
import { openEnvelope, type Envelope } from '../transport/envelope.js';
import type { Link } from '../transport/link.js';
import { ChildHosts, PayloadBuilder, startChildHost, type ChildLink } from './child-hosts.js';
import { RemoteBootError, RemoteHostGoneError } from './errors.js';
import { checkSpec } from './methods.js';
import { ModuleServer, THESPIS_ROOT, packageRootOf } from './module-server.js';
import { agentId, isRecord, type MethodSpec, type RemoteBoot } from './protocol.js';
import { RemoteHost, type ConnectHostOptions, type RemoteHostStatus } from './remote-host.js';
import { runtimeParts } from './runtime-pack.js';
import type { HubPort, Transfer } from './hub-port.js';

/** Gone hosts status() still reports. */
const GONE_KEPT = 32;

interface Pending {
  host: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The Router's view of one host: frames for it go on its channel; closing forgets only that. */
class HostKernelLink implements Link {
  constructor(
    private readonly hub: RemoteHub,
    private readonly kernelId: string,
  ) {}
  send(_destination: string, frame: Frame): void {
    this.hub.channel(this.kernelId).send(frame);
  }
  salvage(): Frame[] {
    return this.hub.channel(this.kernelId).takeQueued();
  }
  close(): void {
    this.hub.dropChannel(this.kernelId);
  }
}

export class RemoteHub implements HubPort {
  private readonly children = new ChildHosts();
  private readonly hosts = new Map<string, RemoteHost>();
  /** Hosts that are gone, newest last (for status: why they went). */
  private readonly gone: RemoteHost[] = [];
  private readonly channels = new Map<string, Channel>();
  private readonly proxies = new Map<string, Channel>();
  private readonly pending = new Map<number, Pending>();
  readonly transfers = new Map<number, Transfer>();
  private readonly modules = new ModuleServer();
  private readonly payloads = new PayloadBuilder(runtimeParts);
  private readonly service: Cell;
  /** Aborted when the system shuts down: boots in progress end at once. */
  private readonly stopping = new AbortController();
  private seq = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly router: Router,
    private readonly log: (record: LogRecord) => void,
  ) {
    // Every boot in progress listens on it: 16 hosts connected at once are not a leak.
    setMaxListeners(0, this.stopping.signal);
    this.service = kernel.createEndpoint({ receiveMessage: (message, from) => this.serve(message, from) }, `${kernel.id}.remote`);
  }

  /** Every connected host, then the last ones that went (with why). */
  statuses(): RemoteHostStatus[] {
    return [...this.hosts.values(), ...this.gone].map((host) => host.status());
  }

  kernelIds(): string[] {
    return [...this.hosts.values()].filter((h) => h.connected).map((h) => h.kernelId);
  }

  // ---- connecting -------------------------------------------------------------

  async connect(options: ConnectHostOptions): Promise<RemoteHost> {
    const { via, serve, name, ...spec } = options;
    checkSpec(spec);
    if (via !== undefined && (!(via instanceof RemoteHost) || !via.connected)) throw new RemoteHostGoneError('connectHost: `via` must be a connected RemoteHost');
    const system = this.kernel.id.slice(0, this.kernel.id.indexOf(':'));
    const id = `${system}:h${randomBytes(6).toString('hex')}`;
    const hostName = name ?? defaultName(spec);
    const roots = (serve ?? defaultRoots()).map((root) => resolve(root));
    const host = new RemoteHost(this, id, hostName, roots, via === undefined ? [id] : [...via.path, id]);
    const boot: RemoteBoot = {
      kernelId: id,
      parentKernelId: via?.kernelId ?? this.kernel.id,
      mainKernelId: this.kernel.id,
      admin: { kernel: this.kernel.adminAddress.kernel, id: this.kernel.adminAddress.id },
      service: { kernel: this.kernel.id, id: this.service.address.id },
      capabilities: this.kernel.capabilities,
      name: hostName,
      token: '',
      linkSpinUs: 0,
      thespisRoot: THESPIS_ROOT,
    };
    this.hosts.set(id, host);
    this.router.expect(id);
    try {
      if (via === undefined) {
        const link = await startChildHost(spec, boot, this.payloads, {
          onRecord: (l, record) => this.fromChild(l, record),
          onClosed: (l, error) => this.linkEnded(l, error),
        }, this.stopping.signal);
        // What came with the ready marker may already have broken the link.
        if (link.stream.isClosed) throw new RemoteBootError(`${hostName}: its link ended as it booted`, '');
        this.children.add(link);
        host.pid = link.child.pid;
        this.relayOutput(link, hostName);
      } else {
        this.children.addRoute(id, via.kernelId);
        const path = via.path;
        for (let i = 0; i < path.length - 1; i++) this.tell(path[i]!, { op: 'route', kernelId: id, via: path[i + 1]! });
        host.pid = (await this.request(via.kernelId, { op: 'connect', spec: spec as MethodSpec, boot })) as number;
      }
    } catch (error) {
      this.hosts.delete(id);
      for (const frame of this.router.remove(id)) this.kernel.undeliverable(frame);
      const top = this.children.route(id);
      if (top !== undefined) this.children.forget(top, [id]);
      throw error;
    }
    this.router.add(id, new HostKernelLink(this, id));
    return host;
  }

  /** What a directly started host prints (stderr, its terminal) and what hosts behind it print reaches the log. */
  private relayOutput(link: ChildLink, name: string): void {
    for (const stream of link.logs) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (rest + text).split(/\r?\n/);
        rest = lines.pop()!.slice(-4096);
        for (const line of lines) if (line !== '') this.log({ level: 'info', message: line, source: name, time: Date.now(), host: name });
      });
      stream.resume();
    }
  }

  // ---- requests to agents ----------------------------------------------------

  nextId(): number {
    return ++this.seq;
  }

  /** Sends `body` to the agent of `kernelId`. */
  tell(kernelId: string, body: Record<string, unknown>): void {
    this.kernel.send(this.service.address, new ActorAddress(kernelId, agentId(kernelId)), body);
  }

  /** Sends a request and resolves with the agent's result (rejects with its error, or when the host goes). */
  request(kernelId: string, body: Record<string, unknown>, id = this.nextId()): Promise<unknown> {
    const host = this.hosts.get(kernelId);
    if (host === undefined || !host.connected) {
      return Promise.reject(new RemoteHostGoneError(`host ${host?.name ?? kernelId} is gone${host?.status().reason !== undefined ? `: ${host.status().reason}` : ''}`));
    }
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { host: kernelId, resolve, reject });
      this.tell(kernelId, { ...body, id });
    });
  }

  private serve(message: unknown, from: ActorAddress | null): void {
    if (!isRecord(message) || from === null || typeof message.op !== 'string') return;
    const host = this.hosts.get(from.kernel);
    if (host === undefined) return;
    const id = message.id as number;
    switch (message.op) {
      case 'result':
      case 'error': {
        const waiting = this.pending.get(id);
        if (waiting === undefined || waiting.host !== from.kernel) return;
        this.pending.delete(id);
        if (message.op === 'result') waiting.resolve(message.value);
        else if (typeof message.output === 'string' || (message.error as Error)?.name === 'RemoteBootError') {
          waiting.reject(new RemoteBootError(String((message.error as Error)?.message), ''));
        } else waiting.reject(message.error instanceof Error ? message.error : new Error(String(message.error)));
        return;
      }
      case 'module':
        host.moduleRequests++;
        this.modules.serve(String(message.path), host.roots).then(
          (value) => this.tell(from.kernel, { op: 'answer', id, value }),
          (error: Error) => this.tell(from.kernel, { op: 'answer', id, error: error.message }),
        );
        return;
      case 'resolve':
        try {
          this.tell(from.kernel, { op: 'answer', id, value: this.modules.resolve(String(message.specifier), String(message.importer), host.roots) });
        } catch (error) {
          this.tell(from.kernel, { op: 'answer', id, error: (error as Error).message });
        }
        return;
      case 'down': {
        const link = this.children.links.get(from.kernel);
        if (link === undefined || !Array.isArray(message.ids)) return;
        const ids = this.children.forget(link, message.ids.filter((x): x is string => typeof x === 'string'));
        this.hostsGone(ids, String(message.reason));
        return;
      }
      default: {
        const transfer = this.transfers.get(id);
        if (transfer !== undefined && transfer.host === from.kernel) transfer.receive(message);
      }
    }
  }

  // ---- envelopes ---------------------------------------------------------------

  channel(kernelId: string): Channel {
    let channel = this.channels.get(kernelId);
    if (channel === undefined) {
      channel = new Channel(kernelId, this.kernel.id, (envelope) => this.children.route(kernelId)?.write(envelope));
      channel.onDropped = (count, error) => this.warn(`${count} frame(s) to ${kernelId} could not be encoded; dropped`, error);
      this.channels.set(kernelId, channel);
    }
    return channel;
  }

  dropChannel(kernelId: string): void {
    this.channels.delete(kernelId);
  }

  private fromChild(link: ChildLink, record: Uint8Array): void {
    const envelope = openEnvelope(record);
    if (envelope === null) return this.broken(link, 'a record that is not an envelope');
    if (!link.behind.has(envelope.source)) return this.broken(link, `an envelope claiming source ${envelope.source}, which is not behind it`);
    const destination = envelope.destination;
    if (destination === this.kernel.id) return this.deliver(link, envelope);
    const down = this.children.route(destination);
    if (down !== undefined) return down.write(record);
    this.proxy(envelope);
  }

  private deliver(link: ChildLink, envelope: Envelope): void {
    let frames: Frame[];
    try {
      frames = this.channel(envelope.source).receive(envelope.payload);
    } catch (error) {
      return this.broken(link, `a bad batch from ${envelope.source}`, error);
    }
    const service = this.service.address.id;
    for (const frame of frames) {
      if (frame[0] === FrameKind.Control || frame[0] === FrameKind.Create) this.refused(envelope.source, frame);
      else if (frame[0] === FrameKind.Message && frame[1].id === service && frame[2]?.kernel !== envelope.source) {
        this.warn(`host ${envelope.source} sent a request claiming to be ${String(frame[2])}; dropped`);
      } else this.kernel.receiveFrame(frame);
    }
  }

  /** An envelope from a host for a thread or process kernel: decoded and re-sent on that kernel's link. */
  private proxy(envelope: Envelope): void {
    const key = `${envelope.source}>${envelope.destination}`;
    let channel = this.proxies.get(key);
    if (channel === undefined) {
      channel = new Channel(envelope.source, envelope.destination, () => undefined);
      this.proxies.set(key, channel);
    }
    let frames: Frame[];
    try {
      frames = channel.receive(envelope.payload, [], false);
    } catch (error) {
      this.proxies.delete(key);
      this.warn(`a batch from ${envelope.source} to ${envelope.destination} could not be read; its frames are lost`, error);
      return;
    }
    for (const frame of frames) {
      if (frame[0] === FrameKind.Control || frame[0] === FrameKind.Create) this.refused(envelope.source, frame);
      else if (!this.router.send(envelope.destination, frame)) this.kernel.undeliverable(frame);
    }
  }

  /**
   * A host may not steer the system's kernels, nor have actors made outside
   * itself (a Create names a module to import there: code runs where the
   * system decides, never where a host asks). Its own actors' children live
   * on its own kernel, so a host that sends these is not running our code.
   */
  private refused(source: string, frame: Frame): void {
    this.warn(`a ${frame[0] === FrameKind.Create ? 'create' : 'control'} frame from host ${source}, which may not send one; dropped`);
  }

  private broken(link: ChildLink, what: string, error?: unknown): void {
    this.log({ level: 'error', message: `host ${this.hosts.get(link.kernelId)?.name ?? link.kernelId} sent ${what}; closing its link`, source: this.kernel.id, time: Date.now(), detail: error === undefined ? undefined : String(error) });
    link.stream.destroy(new Error(what));
  }

  // ---- ends ---------------------------------------------------------------------

  private linkEnded(link: ChildLink, error: Error | undefined): void {
    const ids = this.children.remove(link);
    const name = this.hosts.get(link.kernelId)?.name ?? link.kernelId;
    void link.close(); // reaps it (it may still be leaving)
    this.hostsGone(ids, error !== undefined ? `the link to ${name} broke: ${error.message}` : `the link to ${name} ended`);
  }

  /** These hosts are gone: their actors are reported exited everywhere, their requests rejected. */
  private hostsGone(ids: string[], reason: string): void {
    for (const id of ids) {
      const host = this.hosts.get(id);
      host?.markGone(reason);
      this.hosts.delete(id);
      if (host !== undefined) this.gone.push(host);
      if (this.gone.length > GONE_KEPT) this.gone.shift();
      for (const frame of this.router.remove(id)) this.kernel.undeliverable(frame);
      this.channels.delete(id);
      for (const [key, waiting] of this.pending) {
        if (waiting.host !== id) continue;
        this.pending.delete(key);
        waiting.reject(new RemoteHostGoneError(`host ${host?.name ?? id} is gone: ${reason}`));
      }
      for (const [key, transfer] of this.transfers) {
        if (transfer.host !== id) continue;
        this.transfers.delete(key);
        transfer.fail(new RemoteHostGoneError(`host ${host?.name ?? id} is gone: ${reason}`));
      }
    }
    for (const id of ids) {
      this.kernel.kernelDown(id);
      const frame: Frame = [FrameKind.Control, { op: 'kernelDown', kernelId: id }];
      for (const other of this.router.ids()) this.router.send(other, frame);
    }
  }

  /** Ends `host` and every host behind it; resolves once they are gone (and, here, reaped). */
  async close(host: RemoteHost): Promise<void> {
    if (!host.connected) return;
    const direct = this.children.links.get(host.kernelId);
    if (direct !== undefined) {
      await direct.close();
      return;
    }
    const parent = host.path[host.path.length - 2]!;
    await this.request(parent, { op: 'disconnect', kernelId: host.kernelId }).catch(() => undefined);
    await host.gone;
  }

  /** Ends every host (system shutdown), and abandons boots in progress. */
  async closeAll(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.children.links.values()].map((link) => link.close()));
  }

  warn(message: string, error?: unknown): void {
    this.log({ level: 'warn', message, source: this.kernel.id, time: Date.now(), detail: error === undefined ? undefined : String(error) });
  }
}

function defaultName(spec: MethodSpec): string {
  if (spec.method === 'ssh') return `${spec.user !== undefined ? `${spec.user}@` : ''}${spec.hostname!}${spec.port !== undefined ? `:${spec.port}` : ''}`;
  if (spec.method === 'local') return 'local';
  return `${spec.method}:${spec.user ?? 'root'}`;
}

/** The package (nearest package.json) of the entry script. */
function defaultRoots(): string[] {
  const entry = process.argv[1];
  if (entry === undefined) return [];
  let path: string;
  try {
    path = realpathSync(entry);
  } catch {
    return [];
  }
  const root = packageRootOf(dirname(path));
  return root === undefined ? [] : [root];
}
