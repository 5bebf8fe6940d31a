/** Messages between the main thread and its worker threads (over parentPort, beside the rings). */
import type { Capabilities } from '../core/capabilities.js';
import type { RingPair } from '../transport/thread-link.js';

export interface PeerInfo {
  kernelId: string;
  rings: RingPair;
}

export interface WorkerBoot {
  kernelId: string;
  mainKernelId: string;
  admin: { kernel: string; id: string };
  capabilities: Capabilities;
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
