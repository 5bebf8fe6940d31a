/**
 * The hosts one node (the system's process, or a remote host) started, and
 * the kernels that live behind each: a node routes an envelope for any of
 * them down the link of the child it lies behind, and accepts from that link
 * only envelopes whose source lies behind it (a host may speak for itself
 * and its descendants, never for anyone else: Mitogen's src_id check).
 * Routes are only ever added by the parent side (the system decides where a
 * host lives and tells the nodes on the way), never by what a child says.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { lazyBuiltin } from '../loader/lazy-builtin.js';
import { DEFAULT_LIMITS } from '../transport/codec/codec.js';
import { bootstrap, endChild, newToken } from './bootstrap.js';
import { methodCommand } from './methods.js';
import type { MethodSpec, RemoteBoot, RuntimeParts } from './protocol.js';
import { STDIO_LINK_SPIN_US, StdioLink } from './stdio-link.js';
import type { RecordBytes } from '../transport/record-writes.js';

const zlib = lazyBuiltin<typeof import('node:zlib')>('node:zlib');

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

/** The link to one directly started host, and its process here. */
export class ChildLink {
  /** Kernel ids whose envelopes travel this link: the host itself and every host behind it. */
  readonly behind = new Set<string>();
  readonly exited: Promise<void>;
  /** Why the link ended, once it has. */
  reason: string | null = null;

  constructor(
    readonly kernelId: string,
    readonly child: ChildProcess,
    readonly stream: StdioLink,
    /** What the host prints for people (paused until someone reads it). */
    readonly logs: readonly Readable[] = [],
  ) {
    this.behind.add(kernelId);
    this.exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  write(record: RecordBytes): void {
    this.stream.write(record);
  }

  /** Ends the link (the host sees its stdin end and exits), then the process; resolves once reaped. */
  async close(graceMs = 2000): Promise<void> {
    void this.stream.end();
    const timer = setTimeout(() => void endChild(this.child), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export class ChildHosts {
  readonly links = new Map<string, ChildLink>();
  private readonly routes = new Map<string, ChildLink>();

  add(link: ChildLink): void {
    this.links.set(link.kernelId, link);
    this.routes.set(link.kernelId, link);
  }

  /** Envelopes for `kernelId` go down the link that leads to `viaKernelId`. */
  addRoute(kernelId: string, viaKernelId: string): boolean {
    const link = this.routes.get(viaKernelId);
    if (link === undefined) return false;
    link.behind.add(kernelId);
    this.routes.set(kernelId, link);
    return true;
  }

  route(kernelId: string): ChildLink | undefined {
    return this.routes.get(kernelId);
  }

  /** Forgets `ids` (they were all behind `link`); returns those that were. */
  forget(link: ChildLink, ids: readonly string[]): string[] {
    const gone: string[] = [];
    for (const id of ids) {
      if (this.routes.get(id) !== link) continue;
      this.routes.delete(id);
      link.behind.delete(id);
      gone.push(id);
    }
    return gone;
  }

  /** The link ended: every kernel behind it is gone. */
  remove(link: ChildLink): string[] {
    this.links.delete(link.kernelId);
    const ids = [...link.behind];
    for (const id of ids) if (this.routes.get(id) === link) this.routes.delete(id);
    link.behind.clear();
    return ids;
  }
}

/**
 * The runtime payload for `boot`, framed for the first stage: a deflated run
 * of segments, each behind a 4-byte length (stage 2, the runtime, its code
 * cache and the cache's tag, the hook, then the boot record: runtime-pack.ts).
 * All but the boot record are compressed once per process (a sync-flushed
 * deflate stream); each boot only deflates its own record after them (deflate
 * streams concatenate when only the last block is final).
 */
export class PayloadBuilder {
  private prefix: Buffer | null = null;

  constructor(private readonly parts: () => RuntimeParts) {}

  build(boot: RemoteBoot): Buffer {
    if (this.prefix === null) {
      const { stage2, runtime, codeCache, codeCacheTag, hook } = this.parts();
      const segments = [Buffer.from(stage2, 'latin1'), Buffer.from(runtime, 'utf8'), codeCache, Buffer.from(codeCacheTag, 'latin1'), Buffer.from(hook, 'utf8')];
      this.prefix = zlib().deflateRawSync(Buffer.concat(segments.flatMap((segment) => [lengthOf(segment), segment])), {
        level: 6,
        finishFlush: zlib().constants.Z_SYNC_FLUSH,
      });
    }
    const record = Buffer.from(JSON.stringify(boot), 'utf8');
    const tail = zlib().deflateRawSync(Buffer.concat([lengthOf(record), record]));
    return Buffer.concat([lengthOf({ length: this.prefix.length + tail.length }), this.prefix, tail]);
  }
}

function lengthOf(bytes: { length: number }): Buffer {
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length);
  return length;
}

export interface ChildLinkHandlers {
  onRecord(link: ChildLink, record: Uint8Array): void;
  onClosed(link: ChildLink, error: Error | undefined): void;
}

/**
 * Polling after a batch (stdio-link.ts) pays when the link's other end is
 * the host's node itself: local, sudo and su hand it the link's descriptors.
 * Over ssh the other end is the ssh client, with sshd and the network behind
 * it: the reply comes long after any poll, and polling there takes a core
 * that ssh needs.
 */
function linkSpinUs(spec: MethodSpec): number {
  return spec.method === 'ssh' ? 0 : STDIO_LINK_SPIN_US;
}

/** Starts a host by `spec` and boots `boot` in it; resolves with its link. */
export async function startChildHost(spec: MethodSpec, boot: RemoteBoot, payloads: PayloadBuilder, handlers: ChildLinkHandlers, signal?: AbortSignal): Promise<ChildLink> {
  const token = newToken();
  const spinUs = linkSpinUs(spec);
  const withToken = { ...boot, token, linkSpinUs: spinUs };
  const command = methodCommand(spec, token);
  const booted = await bootstrap({
    argv: command.argv,
    payload: payloads.build(withToken),
    token,
    name: boot.name,
    timeoutMs: spec.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    password: spec.password,
    prompt: command.prompt,
    linkOnFd3: command.linkOnFd3,
    missing: command.missing,
    env: command.env,
    signal,
  });
  let link: ChildLink | undefined = undefined;
  const stream = new StdioLink(
    booted.input,
    booted.output,
    DEFAULT_LIMITS.maxFrameBytes,
    { onRecord: (record) => handlers.onRecord(link!, record), onClosed: (error) => handlers.onClosed(link!, error) },
    booted.leftover,
    spinUs,
  );
  link = new ChildLink(boot.kernelId, booted.child, stream, booted.logs);
  return link;
}
