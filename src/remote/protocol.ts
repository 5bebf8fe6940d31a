/**
 * What a remote host and the system say to each other besides kernel frames:
 * the boot record, and the requests and answers between the system's host
 * service (an endpoint on the main kernel) and each host's agent (an endpoint
 * on its kernel). These travel as ordinary messages, so they take the same
 * routes, links and checks as every actor's mail.
 */
import type { Capabilities } from '../core/placement/capabilities.js';

/** Everything a remote kernel needs to start, sent inside the runtime payload. */
export interface RemoteBoot {
  kernelId: string;
  /** The kernel that started this one: the system's main kernel, or the host it came `via`. */
  parentKernelId: string;
  mainKernelId: string;
  admin: { kernel: string; id: string };
  /** The system's host service endpoint (answers, module requests, reports). */
  service: { kernel: string; id: string };
  capabilities: Capabilities;
  /** The host's name, as logs show it. */
  name: string;
  /** Random per boot: the ready marker carries it. */
  token: string;
  /** How long the host's link to its parent polls after a batch, in µs (stdio-link.ts; 0 when the link goes through ssh). */
  linkSpinUs: number;
  /** The parent's thespis package root: modules under it are the runtime the host already runs. */
  thespisRoot: string;
}

/** The payload besides the boot record: what a host keeps to start hosts behind it. */
export interface RuntimeParts {
  /** Stage 2 itself: evaluates the runtime and starts the kernel. */
  stage2: string;
  /** The runtime bundle (CommonJS text). */
  runtime: string;
  /** A V8 code cache for the runtime (may be empty), and the node that made it (`version arch v8`). */
  codeCache: Uint8Array;
  codeCacheTag: string;
  /** The loader hook's text (registered from a data: URL). */
  hook: string;
}

/** The id of a host's agent endpoint on its kernel. */
export function agentId(kernelId: string): string {
  return `${kernelId}.host`;
}

/** How a host is started: the serialisable part of connectHost's options (passed to an intermediary). */
export interface MethodSpec {
  method: 'local' | 'ssh' | 'sudo' | 'su';
  nodePath?: string;
  hostname?: string;
  port?: number;
  user?: string;
  identityFile?: string;
  sshArgs?: string[];
  hostKeyChecking?: 'enforce' | 'accept' | 'ignore';
  password?: string;
  connectTimeoutMs?: number;
}

/** System → a host's agent. */
export type AgentRequest =
  | { op: 'call'; id: number; ref: string; args: unknown[] }
  | { op: 'connect'; id: number; spec: MethodSpec; boot: RemoteBoot }
  | { op: 'route'; kernelId: string; via: string }
  /** The runtime's V8 code cache as this host compiled it: `{ tag, cache }` or null (the build makes runtime.cache so). */
  | { op: 'code-cache'; id: number }
  | { op: 'disconnect'; id: number; kernelId: string }
  /** The answer to a host's own request (a module graph, a resolution), or why not. */
  | { op: 'answer'; id: number; value?: unknown; error?: string }
  /** From a host started through this one: these kernels are gone (hop by hop to the system). */
  | { op: 'down'; ids: string[]; reason: string }
  | { op: 'put-open'; id: number; path: string; mode: number }
  | { op: 'put-data'; id: number; bytes: Uint8Array }
  | { op: 'put-end'; id: number; sha256: string }
  | { op: 'get-open'; id: number; path: string; window: number; chunkBytes: number }
  | { op: 'get-ack'; id: number; count: number }
  | { op: 'abort'; id: number };

/** A host's agent (or an intermediary) → the system's host service. */
export type ServiceMessage =
  | { op: 'result'; id: number; value: unknown }
  | { op: 'error'; id: number; error: Error; output?: string }
  | { op: 'module'; id: number; path: string }
  | { op: 'resolve'; id: number; specifier: string; importer: string }
  | { op: 'down'; ids: string[]; reason: string }
  | { op: 'put-ack'; id: number; count: number }
  | { op: 'get-data'; id: number; bytes: Uint8Array }
  | { op: 'get-end'; id: number; sha256: string; mode: number; size: number };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
