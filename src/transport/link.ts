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
  /**
   * Flow control (core/flow/flow.ts). Frames this link accepted that the peer has
   * not handled yet, as far as the link can tell (counted in
   * status().pendingMessages).
   */
  pending?(): number;
  /** Over its high-water mark of bytes waiting: senders on it should pause. */
  readonly congested?: boolean;
  /** Told when `congested` changes (set by the router that owns the link). */
  onCongestion?: ((congested: boolean) => void) | undefined;
  /** Flow-control scope of what is behind the link when it is not one kernel (a whole system). */
  readonly scope?: string;
}

/**
 * Bytes waiting in a link between threads or processes of one host before it
 * counts as congested, and under which it no longer does. Small on purpose:
 * the far end reads everything that came into its mailboxes, decoded (ten
 * times the size), so what a link may hold bounds what a slow actor's
 * mailbox can absorb before its senders hear that it is full.
 */
export const LINK_HIGH_WATER_BYTES = 1024 * 1024;
export const LINK_LOW_WATER_BYTES = 256 * 1024;

/** `withHandles`: the frame's batch held handed-off sockets (to open if the frame is delivered here). */
export type FrameHandler = (destination: string, frame: Frame, withHandles: boolean) => void;
