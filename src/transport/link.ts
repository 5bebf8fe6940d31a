/**
 * A link moves kernel frames to one peer, in order. Each record on the wire is
 * `[destinationKernel, frame]`: the destination lets a hub (the main thread, a
 * parent process) forward a frame without understanding it, and lets a kernel
 * accept frames for actors whose address names another kernel (global names).
 */
import type { Frame } from '../core/protocol.js';

export interface Link {
  send(destination: string, frame: Frame): void;
  close(): void;
  /** After the peer died: the frames it never handled, in order (for dead letters). */
  salvage?(): Frame[];
}

/** `withHandles`: the frame's batch held handed-off sockets (to open if the frame is delivered here). */
export type FrameHandler = (destination: string, frame: Frame, withHandles: boolean) => void;
