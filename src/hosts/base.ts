/**
 * A system base: where a system's kernels live. The ActorSystem talks to its
 * base through this interface only; each base (inline, workers, processes)
 * supplies the main kernel and whatever it runs besides.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { ActorAddress } from '../address.js';
import type { Capabilities } from '../core/placement/capabilities.js';
import type { Kernel, NameRegistry } from '../core/kernel.js';
import type { LogRecord } from '../core/log.js';
import type { Router } from './router.js';

export interface BaseOptions {
  systemId: string;
  mainKernelId: string;
  adminAddress: ActorAddress;
  capabilities: Capabilities;
  names: NameRegistry;
  log(record: LogRecord): void;
  workers?: number;
  resourceLimits?: ResourceLimits;
  startup?: 'spawn' | 'fork' | 'forkserver';
}

export interface BaseStatus {
  threads: number;
  processes: number;
}

export interface SystemBase {
  readonly name: 'inline' | 'workers' | 'processes';
  /** The kernel on the thread that started the system: endpoints and admin live here. */
  readonly kernel: Kernel;
  /** Every other live kernel (for broadcasts such as capabilities and shutdown). */
  otherKernels(): string[];
  /** The main kernel's router (remote hosts register here; the network adds its links to other systems). */
  readonly router: Router;
  /** Actors in the system, as far as the main thread can count them without asking (heartbeats, placement). */
  approxActors(): number;
  status(): BaseStatus;
  /** Stop every thread and process; the kernels' actors have already been asked to exit. */
  stop(): Promise<void>;
}
