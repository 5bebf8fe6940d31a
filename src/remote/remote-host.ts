/**
 * RemoteHost: a runtime started elsewhere by `system.connectHost`. It is a
 * kernel of the system: `createActor(spec, { host })` puts an actor there;
 * `call` runs an exported function there; files move both ways.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RemoteHostRef } from '../core/spec.js';
import type { HubPort } from './hub-port.js';
import { CODE_CACHE, type CodeCache } from './code-cache.js';
import { RemoteHostGoneError } from './errors.js';
import type { MethodSpec } from './protocol.js';
import { getFile, putFile } from './files/transfers.js';

export interface ConnectHostOptions extends MethodSpec {
  /** Start the new host from this one, and reach it through it. */
  via?: RemoteHost;
  /** Directories whose modules the host may import (default: the entry script's package, and thespis itself). */
  serve?: string[];
  /** What logs and errors call it (default: from the method, user and hostname). */
  name?: string;
}

export interface RemoteHostStatus {
  name: string;
  kernelId: string;
  connected: boolean;
  /** Why it is gone, once it is. */
  reason?: string;
  /** The local process that runs or reaches it (ssh, sudo, su, node), or the intermediary's child. */
  pid?: number;
  /** Kernel ids from the first host down to this one. */
  path: string[];
  /** Module graphs it asked for (each answer holds a module and its whole static graph). */
  moduleRequests: number;
}

export class RemoteHost implements RemoteHostRef {
  pid: number | undefined = undefined;
  /** Module graphs this host has asked its parent for. */
  moduleRequests = 0;
  #reason: string | null = null;
  #markGone!: () => void;
  /** Resolves once the host is gone. */
  readonly gone: Promise<void>;

  constructor(
    private readonly hub: HubPort,
    readonly kernelId: string,
    readonly name: string,
    /** Directories (absolute) this host may import modules from. */
    readonly roots: readonly string[],
    readonly path: readonly string[],
  ) {
    this.gone = new Promise<void>((resolve) => (this.#markGone = resolve));
  }

  get connected(): boolean {
    return this.#reason === null;
  }

  /** @internal */
  markGone(reason: string): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.#markGone();
  }

  /**
   * Runs the function exported as `<export>` by `<module>` (a file URL or
   * absolute path here, served to the host, or a `node:` builtin) with `args`;
   * resolves with its result, rejects with its error.
   */
  call(ref: string, ...args: unknown[]): Promise<unknown> {
    const gone = this.goneError('call');
    if (gone !== null) return Promise.reject(gone);
    if (typeof ref !== 'string' || ref.lastIndexOf('#') <= 0 || ref.endsWith('#')) {
      return Promise.reject(new TypeError(`call: "${String(ref)}" must be "<module>#<export>"`));
    }
    const hash = ref.lastIndexOf('#');
    const module = ref.slice(0, hash);
    const normalized = isAbsolute(module) ? `${pathToFileURL(module).href}${ref.slice(hash)}` : ref;
    return this.hub.request(this.kernelId, { op: 'call', ref: normalized, args });
  }

  /** Copies a local file to `remotePath` on the host (temporary file renamed into place, mode kept, SHA-256 checked). */
  putFile(localPath: string, remotePath: string, options: { mode?: number } = {}): Promise<number> {
    const gone = this.goneError('putFile');
    if (gone !== null) return Promise.reject(gone);
    return putFile(this.hub, this, localPath, remotePath, options);
  }

  /** Copies `remotePath` on the host to a local file (same guarantees as putFile). */
  getFile(remotePath: string, localPath: string): Promise<number> {
    const gone = this.goneError('getFile');
    if (gone !== null) return Promise.reject(gone);
    return getFile(this.hub, this, remotePath, localPath);
  }

  status(): RemoteHostStatus {
    return {
      name: this.name,
      kernelId: this.kernelId,
      connected: this.connected,
      ...(this.#reason !== null ? { reason: this.#reason } : {}),
      ...(this.pid !== undefined ? { pid: this.pid } : {}),
      path: [...this.path],
      moduleRequests: this.moduleRequests,
    };
  }

  /** @internal The runtime's code cache as the host compiled it (the build's scripts/remote-code-cache.mjs). */
  [CODE_CACHE](): Promise<CodeCache | null> {
    return this.hub.request(this.kernelId, { op: 'code-cache' }) as Promise<CodeCache | null>;
  }

  /** Ends this host and every host behind it (their actors exit as their processes end). */
  close(): Promise<void> {
    return this.hub.close(this);
  }

  private goneError(what: string): RemoteHostGoneError | null {
    return this.#reason === null ? null : new RemoteHostGoneError(`${what}: host ${this.name} is gone: ${this.#reason}`);
  }
}
