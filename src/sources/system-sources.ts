/**
 * A system's side of loadable sources: the registry its admin keeps, and
 * what ActorSystem (and its clients, through the admin) do with it: load
 * and unload, and make a create from a source wait for its validation and
 * load its class where the system runs, so the class's static requirements
 * can place it (as a "<module>#<Export>" spec's class is).
 */
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ActorAddress } from '../address.js';
import type { Kernel } from '../core/kernel.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import type { LogLevel, LogRecord } from '../core/log.js';
import type { CreateRequest } from '../core/protocol.js';
import type { ActorClass, SpecRef } from '../core/spec.js';
import { InvalidActorSpecError } from '../errors.js';
import type { SourceOptions } from '../system/system-options.js';
import { SourceRegistry } from './registry.js';
import { RemoteSources, type RemoteSourcesContext } from './remote-sources.js';

/** Thespian's: a validation the authority leaves unanswered this long expires. */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 120_000;

export class SystemSources {
  readonly registry: SourceRegistry;
  private readonly log: (level: LogLevel, message: string, detail?: unknown) => void;

  constructor(
    private readonly kernel: Kernel,
    systemId: string,
    admin: ActorAddress,
    options: SourceOptions | undefined,
    logSink: (record: LogRecord) => void,
  ) {
    this.log = (level, message, detail) => logSink({ level, message, source: 'sources', time: Date.now(), detail });
    this.registry = new SourceRegistry({
      send: (to, body) => kernel.send(admin, to, body),
      log: this.log,
      validationTimeoutMs: options?.validationTimeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS,
      resolveFrom: packagesUrl(options?.packagesFrom),
      systemId,
    });
  }

  /** Reads and loads a source (a directory, .zip, .tgz or .tar, or bytes); resolves to its hash, validated or not. */
  async load(input: string | Uint8Array): Promise<string> {
    const { readSource } = await import('./bundle/archives.js');
    const read = await readSource(input);
    this.registry.load(read.hash, read.bytes, read.files.size, read.info);
    return read.hash;
  }

  unload(hash: string): boolean {
    return this.registry.unload(hash);
  }

  /** The class of a create from a source, once its validation (if pending) is over; InvalidActorSpecError when it is not loaded. */
  async classFor(ref: SpecRef, hash: string): Promise<ActorClass> {
    await this.registry.settled(hash);
    if (!this.registry.isLoaded(hash)) throw new InvalidActorSpecError(this.registry.whyNot(hash));
    const host = this.kernel.host;
    if (host.loadSourceClass === undefined) throw new InvalidActorSpecError('this system cannot host actors from loadable sources');
    return host.loadSourceClass(ref, hash, this.kernel);
  }

  /**
   * For the network: creates from other systems, which fetch a source this
   * system lacks first (remote-sources.ts).
   */
  remoteCreates(capabilities: () => Capabilities, member: RemoteSourcesContext['member']): (request: CreateRequest, place: (request: CreateRequest) => void) => void {
    const remote = new RemoteSources({ kernel: this.kernel, registry: this.registry, capabilities, member, log: this.log });
    return (request, place) => remote.admit(request, place);
  }

  close(): void {
    this.registry.close();
  }
}

/**
 * A file URL in the directory whose packages sources' bare imports resolve
 * against (Node walks up from it, as from any module there).
 */
function packagesUrl(dir: string | undefined): string {
  let base = dir === undefined ? undefined : resolve(dir);
  if (base === undefined && process.argv[1] !== undefined) {
    try {
      base = dirname(realpathSync(process.argv[1]));
    } catch {
      base = undefined;
    }
  }
  return pathToFileURL(join(base ?? process.cwd(), '[thespis source].js')).href;
}
