/**
 * The system's one listening socket. Other systems, clients and the CLI all
 * come in here. With a secret it speaks only TLS 1.3 with the convention's
 * pre-shared key: a peer without the key is closed during the handshake,
 * before any frame is read, and the log says why. Whatever connects must say
 * hello first (a small record, within a deadline); anything else is closed
 * and logged, and the port goes on serving everyone else.
 */
import { networkInterfaces } from 'node:os';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readHello } from './handshake.js';
import { describeTlsFailure, serverTlsOptions } from './secret.js';
import type { Hello } from './wire.js';

const HELLO_TIMEOUT_MS = 10_000;

export interface AdminPortHandlers {
  /** A connection said hello. */
  hello(socket: Socket, hello: Hello, rest: Uint8Array): void;
  log(level: 'warn' | 'error', message: string): void;
}

export class AdminPort {
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  /** "host:port" as other systems should dial it. */
  address = '';

  private constructor(private readonly handlers: AdminPortHandlers) {}

  static async open(host: string, port: number, psk: Buffer | null, handlers: AdminPortHandlers): Promise<AdminPort> {
    const adminPort = new AdminPort(handlers);
    await adminPort.listen(host, port, psk);
    return adminPort;
  }

  /** Stop listening and close every connection still open. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    if (server === null) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private listen(host: string, port: number, psk: Buffer | null): Promise<void> {
    const accept = (socket: Socket): void => this.accept(socket);
    let server: Server;
    if (psk !== null) {
      const tlsServer = createTlsServer(serverTlsOptions(psk), accept);
      tlsServer.on('tlsClientError', (error: Error & { code?: string }, socket) => {
        this.handlers.log('warn', `refused a connection from ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}: ${describeTlsFailure(error)}`);
      });
      server = tlsServer;
    } else {
      server = createTcpServer(accept);
    }
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.removeListener('error', reject);
        server.on('error', (error) => this.handlers.log('error', `admin port: ${error.message}`));
        this.address = `${advertisedHost(host)}:${(server.address() as AddressInfo).port}`;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // reported through close and the reads
    const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    readHello(socket, HELLO_TIMEOUT_MS).then(
      ({ hello, rest }) => this.handlers.hello(socket, hello, rest),
      (error: Error) => {
        this.handlers.log('warn', `closed a connection from ${from}: ${error.message}`);
        socket.destroy();
      },
    );
  }
}

/**
 * The host others should dial: the one given, or for a wildcard the first
 * external IPv4 address (a wildcard is not an address anyone can reach).
 */
function advertisedHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}
