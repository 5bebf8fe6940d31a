/**
 * What the system's process arranges between its process kernels, beside
 * routing (processes.ts): direct links between processes that talk a lot
 * (peer-links.ts), and retiring a process without losing the mail other
 * processes sent it (ControlOp 'retire' in core/protocol.ts).
 *
 * Both rest on one count: how many envelopes each process has sent each
 * other process through here (a large one counting once per 64 KiB: large
 * messages cost the hub copies and a hop, so their senders are introduced
 * sooner). A pair that passes INTRODUCE_AFTER gets a socket pair; a process
 * that retires must hear from every process with a count towards it (their
 * envelopes are encoded for its channels alone, so only it can read them and
 * turn them into dead letters).
 *
 * The same count decides whom a process may report for breaking the
 * protocol (ControlOp 'peerBroke'): only what the hub cannot check itself,
 * bytes on a direct link or forwarded undecoded, and only from a process
 * that has sent the reporter mail, so a process cannot get strangers killed.
 */
import { FrameKind, type ControlOp, type Frame } from '../../core/protocol.js';
import { native } from '../../native.js';
import { FdLink } from '../../transport/fd-link.js';
import { markerRecord } from './peer-links.js';
import type { ProcessLink } from './process-link.js';

/** Envelopes one process sends another through here before they get a direct link. */
const INTRODUCE_AFTER = 64;
/** A forwarded envelope counts once more per this many bytes. */
const ENVELOPE_WEIGHT_BYTES = 64 * 1024;
/** How long a retiring process waits for the processes that sent it mail to say it is all out. */
const DRAIN_TIMEOUT_MS = 5000;

export interface PeeringHooks {
  /** The process has read everything and may go: close its link. */
  retired(link: ProcessLink): void;
  /** The process broke the protocol (`what` it sent, and to whom): it loses its link and is killed. */
  broken(link: ProcessLink, what: string): void;
  warn(message: string): void;
}

export class Peering {
  constructor(
    /** The live process links, by kernel id (owned by ProcessHosts). */
    private readonly links: ReadonlyMap<string, ProcessLink>,
    private readonly hooks: PeeringHooks,
  ) {}

  /**
   * `from` sent `to` an envelope through here. Two processes that talk a lot
   * get a direct link (a socket pair, one end each), once, when either has
   * sent the other INTRODUCE_AFTER envelopes (`bytes` weighs large ones).
   */
  forwarded(from: ProcessLink, to: ProcessLink, bytes: number): void {
    const before = from.forwarded.get(to.kernelId) ?? 0;
    const count = before + 1 + Math.floor(bytes / ENVELOPE_WEIGHT_BYTES);
    from.forwarded.set(to.kernelId, count);
    if (before >= INTRODUCE_AFTER || count < INTRODUCE_AFTER || (to.forwarded.get(from.kernelId) ?? 0) >= INTRODUCE_AFTER || native === null) return;
    if (!(from.stream instanceof FdLink) || !(to.stream instanceof FdLink) || !to.confirmed) return;
    if (from.awaiting !== null || to.awaiting !== null) return; // retiring: about to be gone
    const [a, b] = native.socketPair();
    from.stream.write(markerRecord(from.kernelId, to.kernelId, 1), [a]);
    to.stream.write(markerRecord(to.kernelId, from.kernelId, 1), [b]);
  }

  /** Handles `op` from `link`'s process if it is a step of a retirement or a report on a peer; false when it is not. */
  fromProcess(link: ProcessLink, op: ControlOp): boolean {
    switch (op.op) {
      case 'peerBroke': {
        const accused = this.links.get(op.kernelId);
        if (accused !== undefined && accused.forwarded.has(link.kernelId)) this.hooks.broken(accused, `${link.kernelId} bytes that break the protocol (${op.reason})`);
        else this.hooks.warn(`process kernel ${link.kernelId} reported ${op.kernelId}, which has sent it nothing through here; ignored`);
        return true;
      }
      case 'retire':
        this.retire(link);
        return true;
      case 'downSeen': {
        const retiring = this.links.get(op.kernelId);
        if (retiring?.awaiting?.delete(link.kernelId) === true && retiring.awaiting.size === 0) this.drained(retiring);
        return true;
      }
      case 'retired':
        this.hooks.retired(link);
        return true;
      default:
        return false;
    }
  }

  /** `link`'s process is gone: nobody waits for it, and nothing counts towards it. */
  gone(link: ProcessLink): void {
    clearTimeout(link.drainTimer);
    for (const other of this.links.values()) {
      other.forwarded.delete(link.kernelId);
      if (other.awaiting?.delete(link.kernelId) === true && other.awaiting.size === 0) this.drained(other);
    }
  }

  /** The system stops: no retirement waits any more. */
  stop(): void {
    for (const link of this.links.values()) clearTimeout(link.drainTimer);
  }

  /**
   * `link`'s process is idle. Each process that has sent it mail through here
   * is told it is gone, and answers once its mail is out. Until then the
   * process stays linked.
   */
  private retire(link: ProcessLink): void {
    if (link.awaiting !== null || link.isDown) return;
    const awaiting = new Set<string>();
    const frame: Frame = [FrameKind.Control, { op: 'kernelDown', kernelId: link.kernelId, drain: true }];
    for (const other of this.links.values()) {
      if (other === link || !other.forwarded.has(link.kernelId)) continue;
      awaiting.add(other.kernelId);
      other.send(other.kernelId, frame);
    }
    link.awaiting = awaiting;
    if (awaiting.size === 0) return this.drained(link);
    link.drainTimer = setTimeout(() => {
      this.hooks.warn(`process kernel ${link.kernelId} retires without word from ${[...awaiting].join(', ')}`);
      this.drained(link);
    }, DRAIN_TIMEOUT_MS);
  }

  private drained(link: ProcessLink): void {
    clearTimeout(link.drainTimer);
    link.awaiting = new Set(); // told: later answers change nothing
    link.send(link.kernelId, [FrameKind.Control, { op: 'drained' }]);
  }
}
