/**
 * Clients of this system (ActorSystem.connect, the `thespis` command): each
 * connection gets a kernel id of its own under this system
 * (`<system>:c<n>`), so its endpoints have addresses like any actor's and
 * replies, watches and dead letters work as they do inside the system.
 * Frames from a client are always decoded and checked here (inbound.ts): a
 * client speaks only for its own endpoints, and asks the admin only what a
 * client may. A client that disconnects is gone: its endpoints become dead
 * letters and asks watching them end.
 */
import type { Socket } from 'node:net';
import { FrameKind, type Frame } from '../core/protocol.js';
import { Channel } from '../transport/channel.js';
import type { Link } from '../transport/link.js';
import type { StreamLink } from '../transport/stream-link.js';
import { framed, linkAfterHello } from './handshake.js';
import { Inbound, type InboundContext } from './inbound.js';
import { encodeHello, type ClientWelcome } from './wire.js';

export interface ClientsContext extends InboundContext {
  readonly selfId: string;
  readonly adminId: string;
  welcome(clientKernel: string): ClientWelcome;
  /** The client's kernel is gone: report it like any kernel that died. */
  gone(clientKernel: string): void;
}

/** The link from this system's main kernel to one client. */
class ClientLink implements Link {
  private readonly channel: Channel;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;

  constructor(
    readonly kernelId: string,
    readonly stream: StreamLink,
    mainKernel: string,
  ) {
    this.channel = new Channel(kernelId, mainKernel, (envelope) => stream.write(envelope), {}, 'sockets do not travel to clients');
    stream.onCongestion = (congested) => this.onCongestion?.(congested);
  }

  send(_destination: string, frame: Frame): void {
    this.channel.send(frame);
  }

  get congested(): boolean {
    return this.stream.congested;
  }

  pending(): number {
    return this.channel.queued + this.stream.queuedRecords;
  }

  close(): void {
    void this.stream.end();
  }

  /**
   * The system shuts down: the client is told (its main kernel is going
   * down), so what it waits for fails as a shutdown, not a lost connection;
   * then the connection ends once that is written, or after GOODBYE_MS.
   */
  async goodbye(mainKernel: string): Promise<void> {
    this.channel.send([FrameKind.Control, { op: 'kernelDown', kernelId: mainKernel }]);
    this.channel.flush();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, GOODBYE_MS)));
    await Promise.race([this.stream.end(), late]);
    clearTimeout(timer);
    this.stream.destroy(new Error('the system shut down'));
  }
}

/** How long a client may take to read the system's goodbye. */
const GOODBYE_MS = 1000;

export class Clients {
  private seq = 0;
  private readonly links = new Map<string, ClientLink>();

  constructor(private readonly ctx: ClientsContext) {}

  get count(): number {
    return this.links.size;
  }

  accept(socket: Socket, rest: Uint8Array): void {
    const kernelId = `${this.ctx.selfId}:c${++this.seq}`;
    socket.setNoDelay(true);
    socket.write(framed(encodeHello(this.ctx.welcome(kernelId))));
    const name = `client ${kernelId} (${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'})`;
    const inbound = new Inbound(this.ctx, { system: this.ctx.selfId, clientKernel: kernelId, self: this.ctx.selfId, selfKernel: this.ctx.kernel.id, adminId: this.ctx.adminId }, () => name);
    const { link: stream, start } = linkAfterHello(socket, rest, {
      onRecord: (record) => {
        if (!inbound.receive(record)) {
          this.ctx.log('error', `${name} sent a record that is not an envelope; closing its connection`);
          stream.destroy(new Error('protocol broken'));
        }
      },
      onClosed: () => this.closed(kernelId),
    });
    const link = new ClientLink(kernelId, stream, this.ctx.kernel.id);
    this.links.set(kernelId, link);
    this.ctx.router.add(kernelId, link);
    start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((link) => link.goodbye(this.ctx.kernel.id)));
  }

  private closed(kernelId: string): void {
    if (!this.links.delete(kernelId)) return;
    for (const frame of this.ctx.router.remove(kernelId)) this.ctx.kernel.undeliverable(frame);
    this.ctx.gone(kernelId);
  }
}
