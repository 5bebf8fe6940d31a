/** Messages between the main thread and its worker threads (over parentPort, beside the rings). */
import type { Capabilities } from '../../core/placement/capabilities.js';
import type { RingPair } from '../../transport/thread-link.js';
import type { Startup } from '../process/process-protocol.js';

export interface PeerInfo {
  kernelId: string;
  rings: RingPair;
}

export interface WorkerBoot {
  kernelId: string;
  mainKernelId: string;
  admin: { kernel: string; id: string };
  capabilities: Capabilities;
  /** How process actors created here start unless the create says otherwise. */
  startup: Startup;
  /** Pool slot of this worker, or -1 for a dedicated one. */
  slot: number;
  loads: SharedArrayBuffer;
  slots: string[];
  peers: PeerInfo[];
}

export type MainToWorker =
  | { type: 'peer'; peer: PeerInfo; slot: number }
  | { type: 'down'; kernelId: string; slot: number }
  | { type: 'stop' };

export type WorkerToMain = { type: 'ready' };
