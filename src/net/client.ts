/**
 * A client of a running system (`ActorSystem.connect`): endpoints for tell /
 * ask / listen that live on a small kernel of their own, under the kernel id
 * the system gave this connection, so replies, watches (an ask to a dead
 * actor rejects) and dead letters work exactly as inside the system. Creates,
 * status and capability changes are requests to the system's admin.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ActorAddress } from '../address.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import { systemOf } from '../core/flow/flow.js';
import { Kernel, type KernelHost } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import { ControlDone, Created, FrameKind, type Frame } from '../core/protocol.js';
import { resolveSpec, type ActorSpec, type CreateOptions } from '../core/spec.js';
import { EndpointFront, replyOnce } from '../endpoint.js';
import { ActorSystemShutdownError, InvalidActorSpecError, SystemConnectionError, ThespisError, creationError } from '../errors.js';
import type { SystemStatus } from '../system/system-types.js';
import { Channel } from '../transport/channel.js';
import { openEnvelope } from '../transport/envelope.js';
import type { StreamLink } from '../transport/stream-link.js';
import { framed, linkAfterHello, readHello } from './handshake.js';
import { clientTlsOptions, derivePsk } from './secret.js';
import { WIRE_FORMAT, encodeHello, isAdminAddress, wireMismatch, type ClientWelcome } from './wire.js';

export interface ConnectOptions {
  /** The convention secret, when the system has one. */
  secret?: string;
  /** How long to wait for the system to accept (default 10 s). */
  connectTimeoutMs?: number;
  /** Log records of the client itself (default: warnings and errors to stderr). */
  logger?: (record: LogRecord) => void;
}

const CREATE_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const NO_HANDLES = 'a socket cannot be sent from a client';

export async function connectClient(adminAddress: string, options: ConnectOptions = {}): Promise<ActorSystemClient> {
  if (!isAdminAddress(adminAddress)) throw new TypeError(`ActorSystem.connect: "${String(adminAddress)}" is not a host:port admin address`);
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const colon = adminAddress.lastIndexOf(':');
  const host = adminAddress.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(adminAddress.slice(colon + 1));
  const secure = options.secret !== undefined;
  const socket: Socket = secure ? tlsConnect({ host, port, ...clientTlsOptions(derivePsk(options.secret!)) }) : tcpConnect({ host, port });
  const deadline = Date.now() + timeoutMs;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      socket.once(secure ? 'secureConnect' : 'connect', () => (clearTimeout(timer), resolve()));
      socket.once('error', (error) => (clearTimeout(timer), reject(error)));
      socket.once('close', () => (clearTimeout(timer), reject(new Error('the connection was closed'))));
    });
    socket.setNoDelay(true);
    socket.write(framed(encodeHello({ kind: 'client', wire: WIRE_FORMAT })));
    const { hello, rest } = await readHello(socket, Math.max(1, deadline - Date.now()));
    if (hello.kind === 'refused') throw new Error(`refused: ${hello.reason}`);
    if (hello.kind !== 'welcome') throw new Error('it did not answer as a thespis system');
    const mismatch = wireMismatch(hello);
    if (mismatch !== null) throw new Error(mismatch);
    return new ActorSystemClient(adminAddress, socket, rest, hello, options);
  } catch (error) {
    socket.destroy();
    throw new SystemConnectionError(`cannot connect to the system at ${adminAddress}: ${explain(error as Error & { code?: string }, secure)}`);
  }
}

function explain(error: Error & { code?: string }, secure: boolean): string {
  if (error.code === 'ECONNREFUSED') return 'nothing listens there (connection refused)';
  if (error.code?.startsWith('ERR_SSL') === true) return 'the TLS handshake failed: the secret does not match';
  if (!secure && /closed|ECONNRESET|hello/.test(error.message)) return `${error.message} (does the system need a secret?)`;
  return error.message;
}

class ClientHost implements KernelHost {
  private readonly channels = new Map<string, Channel>();
  open = true;

  constructor(
    private readonly kernelId: string,
    private readonly stream: StreamLink,
    private readonly logger: (record: LogRecord) => void,
  ) {}

  sendFrame(kernelId: string, frame: Frame): boolean {
    if (!this.open) return false;
    let channel = this.channels.get(kernelId);
    if (channel === undefined) {
      channel = new Channel(kernelId, this.kernelId, (envelope) => this.stream.write(envelope), {}, NO_HANDLES);
      this.channels.set(kernelId, channel);
    }
    channel.send(frame);
    return true;
  }

  /** Frames from the system, for this client's kernel. */
  receive(record: Uint8Array, systemId: string): Frame[] | null {
    const envelope = openEnvelope(record);
    if (envelope === null || envelope.destination !== this.kernelId || systemOf(envelope.source) !== systemId) return null;
    let channel = this.channels.get(envelope.source);
    if (channel === undefined) {
      channel = new Channel(envelope.source, this.kernelId, (bytes) => this.stream.write(bytes), {}, NO_HANDLES);
      this.channels.set(envelope.source, channel);
    }
    return channel.receive(envelope.payload, [], true);
  }

  place(): string {
    throw new ThespisError('a client creates actors through its system');
  }

  loadClass(): never {
    throw new ThespisError('a client hosts no actors');
  }

  yieldThen(fn: () => void): void {
    setImmediate(fn);
  }

  log(record: LogRecord): void {
    this.logger(record);
  }
}

export class ActorSystemClient extends EndpointFront {
  /** The system's id. */
  readonly systemId: string;
  /** The system's capabilities when the client connected. */
  readonly capabilities: Capabilities;
  private readonly kernel: Kernel;
  private readonly host: ClientHost;
  private readonly stream: StreamLink;
  private closedWith: Error | null = null;
  private readonly closed: Promise<void>;

  /** @internal Made by ActorSystem.connect. */
  constructor(
    readonly adminAddress: string,
    socket: Socket,
    rest: Uint8Array,
    welcome: ClientWelcome,
    options: ConnectOptions,
  ) {
    super();
    this.systemId = welcome.systemId;
    this.capabilities = welcome.capabilities;
    const logger = options.logger ?? ((record: LogRecord) => {
      if (record.level === 'warn' || record.level === 'error') process.stderr.write(`[thespis ${record.level}] client: ${record.message}\n`);
    });
    let closed!: () => void;
    this.closed = new Promise((resolve) => (closed = resolve));
    const { link, start } = linkAfterHello(socket, rest, {
      onRecord: (record) => this.received(record),
      onClosed: (error) => {
        this.lost(error);
        closed();
      },
    });
    this.stream = link;
    this.host = new ClientHost(welcome.clientKernel, this.stream, logger);
    const main = `${welcome.systemId}:main`;
    this.kernel = new Kernel(welcome.clientKernel, this.host, new ActorAddress(main, `${main}.admin`), welcome.capabilities);
    this.openEndpoints();
    start();
  }

  /** Create an actor in the system: a class with `static module`, or "<module>#<Export>" resolvable there. */
  async createActor(spec: ActorSpec, options: CreateOptions = {}): Promise<ActorAddress> {
    this.checkOpen();
    const resolved = resolveSpec(spec, options.sourceHash);
    if (resolved.ref === undefined) throw new InvalidActorSpecError(`${resolved.label} has no static module, so the system cannot load it: add \`static module = import.meta.url\``);
    const { host, startup, dedicated, globalName, requirements, sourceHash } = options;
    const ack = replyOnce<Created>(this.kernel, CREATE_TIMEOUT_MS, 'createActor');
    this.kernel.admin({ op: 'clientCreate', spec: resolved.ref, options: { host, startup, dedicated, globalName, requirements, sourceHash }, ack: ack.address });
    const created = await this.settle(ack.reply);
    if (created.error !== undefined) throw creationError(created.errorName, created.error);
    return created.address;
  }

  async status(): Promise<SystemStatus> {
    this.checkOpen();
    const reply = replyOnce<SystemStatus | { error: string }>(this.kernel, REQUEST_TIMEOUT_MS, 'status');
    this.kernel.admin({ op: 'status', reply: reply.address });
    const status = await this.settle(reply.reply);
    if ('error' in status) throw new ThespisError(`status failed: ${status.error}`);
    return status;
  }

  /** Set (or with no value, remove) one of the system's capabilities; resolves once applied. */
  async updateCapability(name: string, value?: unknown): Promise<void> {
    this.checkOpen();
    if (typeof name !== 'string' || name === '') throw new TypeError('updateCapability: name must be a non-empty string');
    const done = replyOnce<ControlDone>(this.kernel, REQUEST_TIMEOUT_MS, 'updateCapability');
    this.kernel.admin({ op: 'updateCapability', name, value, remove: arguments.length < 2 || value === undefined, ack: done.address });
    const answer = await this.settle(done.reply);
    if (answer.detail !== undefined) throw new ThespisError(`updateCapability failed: ${String(answer.detail)}`);
  }

  /**
   * Loads an actor source into the system: a directory or archive path on
   * this machine (read here), or its bytes; resolves to its hash once the
   * system has it.
   */
  async loadActorSource(source: string | Uint8Array): Promise<string> {
    this.checkOpen();
    const { requestLoad } = await import('../sources/kernel-requests.js');
    return requestLoad(this.kernel, source, undefined, (reply) => this.settle(reply));
  }

  /** Stops new creates from a source in the system; resolves to whether it was loaded. */
  async unloadActorSource(sourceHash: string): Promise<boolean> {
    this.checkOpen();
    const { requestUnload } = await import('../sources/kernel-requests.js');
    return requestUnload(this.kernel, sourceHash, undefined, (reply) => this.settle(reply));
  }

  /** Disconnect (the system keeps running); pending asks reject. */
  async close(): Promise<void> {
    if (this.closedWith === null) this.lost(undefined, new ActorSystemShutdownError('the client was closed'));
    await this.stream.end();
  }

  /** Stop the system (children first); resolves once it has closed this connection. */
  async shutdown(): Promise<void> {
    if (this.closedWith === null) {
      this.shuttingDown = true;
      this.kernel.admin({ op: 'shutdown' });
    }
    await this.closed;
  }

  /** This client asked the system to shut down: its end is no surprise. */
  private shuttingDown = false;

  private received(record: Uint8Array): void {
    let frames: Frame[] | null;
    try {
      frames = this.host.receive(record, this.systemId);
    } catch (error) {
      this.host.log({ level: 'error', message: 'the system sent a batch that could not be read; dropped', source: 'client', time: Date.now(), detail: String(error) });
      return;
    }
    if (frames === null) {
      this.host.log({ level: 'error', message: 'the system sent a record that is not for this client; dropped', source: 'client', time: Date.now() });
      return;
    }
    for (const frame of frames) {
      // The system tells of its kernels that died (asks watching their actors end).
      if (frame[0] === FrameKind.Control) {
        const op = frame[1];
        if (op.op !== 'kernelDown') continue;
        // Its main kernel going down: the system is shutting down (the connection ends next).
        if (op.kernelId === `${this.systemId}:main`) this.shuttingDown = true;
      }
      this.kernel.receiveFrame(frame);
    }
  }

  /** The connection ended: everything pending rejects. */
  private lost(error: Error | undefined, reason?: Error): void {
    if (this.closedWith !== null) return;
    this.host.open = false;
    this.closedWith =
      reason ??
      (this.shuttingDown
        ? new ActorSystemShutdownError('the actor system shut down')
        : new SystemConnectionError(`lost the connection to the system at ${this.adminAddress}${error !== undefined ? `: ${error.message}` : ''}`));
    this.closeEndpoints(this.closedWith);
    this.kernel.close();
  }

  /** A reply, or the connection's end, whichever comes first. */
  private settle<T>(reply: Promise<T>): Promise<T> {
    return Promise.race([reply, this.closed.then(() => Promise.reject(this.closedWith))]);
  }

  protected get endpointKernel(): Kernel {
    return this.kernel;
  }

  protected checkOpen(): void {
    if (this.closedWith !== null) throw this.closedWith;
  }
}
