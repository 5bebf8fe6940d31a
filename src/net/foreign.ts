/**
 * What a frame from another system (or a client) may claim. The link already
 * proved who is at the other end; this makes sure a frame speaks only for
 * that peer: its senders, parents and watchers are the peer's own, it is
 * addressed to this system, and it asks nothing of the admin that only the
 * system itself (or, for a few requests, a client) may ask.
 */
import type { ActorAddress } from '../address.js';
import { AdminRequest, type AdminOp } from '../core/admin-request.js';
import { inSystem } from '../core/flow/flow.js';
import { FrameKind, type Frame } from '../core/protocol.js';

/** Admin requests a client may make (ActorSystem.connect, the CLI). */
const CLIENT_ADMIN_OPS: ReadonlySet<AdminOp['op']> = new Set<AdminOp['op']>([
  'clientCreate', 'status', 'updateCapability', 'shutdown', 'deadLetterHandler', 'conventionNotify', 'sourceNotify',
  'sourceAuthority', 'preRegisterRemote', 'deRegisterRemote', 'sourceLoad', 'sourceUnload',
]);

/**
 * Admin requests another system may make: fetching a loaded source it was
 * asked to create from (src/sources/remote-sources.ts); the answer holds
 * only what the source's hash names.
 */
const SYSTEM_ADMIN_OPS: ReadonlySet<AdminOp['op']> = new Set<AdminOp['op']>(['sourceOpen']);

export interface ForeignPeer {
  /** The peer's system id; for a client, the system's own. */
  readonly system: string;
  /** A client: the one kernel it may speak as. */
  readonly clientKernel?: string;
  /** This system's id and main kernel. */
  readonly self: string;
  readonly selfKernel: string;
  readonly adminId: string;
}

/** Why `frame` may not come from `peer`, or null when it may. */
export function foreignFrameProblem(frame: Frame, peer: ForeignPeer): string | null {
  switch (frame[0]) {
    case FrameKind.Message: {
      // By index, not destructuring (this runs for every message from outside).
      const to = frame[1];
      const from = frame[2];
      if (!ownedBy(from, peer, true)) return `a message in the name of ${from!.id}, which is not the peer's`;
      // A client may message any actor (this system routes it on); another system only this one's.
      if (peer.clientKernel === undefined && to.kernel !== '' && !inSystem(to.kernel, peer.self)) return `a message for ${to.id}, which is not on this system`;
      const body = frame[3];
      if (to.id === peer.adminId && body instanceof AdminRequest) {
        if (peer.clientKernel === undefined) return SYSTEM_ADMIN_OPS.has(body.request.op) ? null : `an admin request (${body.request.op}) from another system`;
        if (!CLIENT_ADMIN_OPS.has(body.request.op)) return `an admin request (${body.request.op}) a client may not make`;
      }
      return null;
    }
    case FrameKind.Create: {
      if (peer.clientKernel !== undefined) return 'a create frame from a client (clients create through the admin)';
      const request = frame[1];
      if (request.address.kernel !== peer.selfKernel) return 'a create placed on a kernel other than this system’s main one';
      if (!ownedBy(request.parent, peer, false) || (request.ack !== undefined && request.ack !== null && !ownedBy(request.ack, peer, false))) {
        return 'a create for a parent that is not the peer’s';
      }
      if (request.troupeLeader != null || request.globalName != null) return 'a create for a troupe member or a global name (those are made locally)';
      return null;
    }
    case FrameKind.Watch:
    case FrameKind.Unwatch:
      return ownedBy(frame[2], peer, false) ? null : 'a watch in the name of another system';
    case FrameKind.Control: {
      const op = frame[1];
      if (peer.clientKernel !== undefined) return 'a control frame from a client';
      if (op.op !== 'congested' && op.op !== 'relieved') return `a control frame (${op.op}) from another system`;
      // An actor's id may come from a creator on another system: its kernel says whose it is.
      const about = op.kernel ?? op.scope;
      return inSystem(about, peer.system) || about === peer.system ? null : 'a flow notice about a third system';
    }
    default:
      return 'an unknown frame';
  }
}

function ownedBy(address: ActorAddress | null | undefined, peer: ForeignPeer, nullable: boolean): boolean {
  if (address == null) return nullable;
  if (peer.clientKernel !== undefined) return address.kernel === peer.clientKernel;
  return inSystem(address.kernel, peer.system);
}
