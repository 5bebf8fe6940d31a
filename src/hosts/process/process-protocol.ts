/** What the system process, its zygotes and its process kernels tell each other outside kernel frames. */
import type { Capabilities } from '../../core/placement/capabilities.js';
import { envelopeHeader, openEnvelope, sealEnvelope } from '../../transport/envelope.js';

export type Startup = 'spawn' | 'fork' | 'forkserver';

/** Everything a process kernel needs to start (argv for spawn, the fork command for forked ones). */
export interface ProcessBoot {
  kernelId: string;
  mainKernelId: string;
  admin: { kernel: string; id: string };
  capabilities: Capabilities;
  /** How actors this process creates in processes of their own start. */
  startup: Startup;
  /** Whether an actor created here with no `host` gets a process of its own (the processes base). */
  processPerActor: boolean;
  /**
   * The link to the system's process. With the addon: an inherited socket
   * (`linkFd`), one end of a socket pair the system made, which can carry
   * descriptors. Without it: the system's Unix socket to connect back to, and
   * the token that proves who is connecting.
   */
  linkFd?: number;
  socketPath?: string;
  token?: string;
}

/**
 * The first record a process kernel sends on its link: an envelope (so every
 * record on a process link is one) whose payload is this, as JSON.
 */
export interface Hello {
  kernelId: string;
  token: string;
}

export function helloRecord(hello: Hello, mainKernelId: string): Uint8Array {
  return sealEnvelope(envelopeHeader(mainKernelId, hello.kernelId), Buffer.from(JSON.stringify(hello)));
}

/** The hello in `record`, or null when it is not one. */
export function readHello(record: Uint8Array): Hello | null {
  const read = readJsonEnvelope<Partial<Hello>>(record);
  if (read === null) return null;
  const hello = read.value;
  return hello.kernelId === read.source && typeof hello.token === 'string' ? (hello as Hello) : null;
}

/** What a spare process sends once it is warm: an empty record (no other record on a process link is). */
export const SPARE_READY = new Uint8Array(0);

/**
 * The first record a spare process (forked ahead of need, see
 * ProcessHosts.spare) gets from the system: what it is to be. An envelope
 * from the system's kernel to the new kernel, with the boot as JSON.
 */
export function bootRecord(boot: ProcessBoot): Uint8Array {
  return sealEnvelope(envelopeHeader(boot.kernelId, boot.mainKernelId), Buffer.from(JSON.stringify(boot)));
}

export function readBoot(record: Uint8Array): ProcessBoot | null {
  const read = readJsonEnvelope<Partial<ProcessBoot>>(record);
  if (read === null) return null;
  const boot = read.value;
  return boot.kernelId === read.destination && boot.mainKernelId === read.source ? (boot as ProcessBoot) : null;
}

function readJsonEnvelope<T>(record: Uint8Array): { value: T; source: string; destination: string } | null {
  if (record.length > MAX_HELLO_BYTES) return null;
  const envelope = openEnvelope(record);
  if (envelope === null || envelope.fdCount !== 0) return null;
  try {
    const payload = envelope.payload;
    const value = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8')) as T;
    return typeof value === 'object' && value !== null ? { value, source: envelope.source, destination: envelope.destination } : null;
  } catch {
    return null;
  }
}

/**
 * System process → zygote, one record each on the zygote's fd 3 (an fd link:
 * see controlRecord). A fork command carries the child's end of its link; one
 * with no boot forks a spare, which waits on its link for a bootRecord.
 */
export type ZygoteCommand =
  | { cmd: 'fork'; id: number; boot?: ProcessBoot; preload?: string }
  | { cmd: 'stop' };

/** Zygote → system process, one record each. */
export type ZygoteEvent =
  | { event: 'ready' }
  | { event: 'forked'; id: number; pid: number }
  | { event: 'failed'; id: number; error: string }
  | { event: 'exit'; pid: number; code: number | null; signal: string | null };

/** Largest hello or boot record; anything longer is not one of ours. */
export const MAX_HELLO_BYTES = 4096;

/** A zygote control record: `[u8 descriptor count][JSON]`. */
export function controlRecord(message: ZygoteCommand | ZygoteEvent, fdCount = 0): Uint8Array {
  const json = Buffer.from(JSON.stringify(message));
  const record = Buffer.allocUnsafe(1 + json.length);
  record[0] = fdCount;
  json.copy(record, 1);
  return record;
}

/** How many descriptors a control record carries (for FdLink), -1 when it is empty. */
export function controlFdCount(record: Uint8Array): number {
  return record.length === 0 ? -1 : record[0]!;
}

export function readControl<T extends ZygoteCommand | ZygoteEvent>(record: Uint8Array): T {
  return JSON.parse(Buffer.from(record.buffer, record.byteOffset + 1, record.length - 1).toString('utf8')) as T;
}
