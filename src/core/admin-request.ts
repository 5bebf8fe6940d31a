/**
 * Requests kernels send to their system's admin. They travel as ordinary
 * messages to the admin's address, wrapped in a registered class so user data
 * can never be mistaken for one.
 */
import type { ActorAddress } from '../address.js';
import { registerMessage } from '../messages.js';
import type { Capabilities } from './placement/capabilities.js';
import type { LogRecord } from './log.js';
import type { CreateOptions, SpecRef } from './spec.js';

export type AdminOp =
  | { op: 'deadLetter'; to: ActorAddress; body: unknown; from: ActorAddress | null }
  | { op: 'deadLetterHandler'; address: ActorAddress; start: boolean }
  | { op: 'conventionNotify'; address: ActorAddress; start: boolean }
  | { op: 'sourceAuthority'; address: ActorAddress }
  | { op: 'sourceNotify'; address: ActorAddress; start: boolean }
  /**
   * Loadable sources (src/sources): load `bytes` (canonical, or an archive)
   * and unload a hash, answered at `reply` with SourceReply; open a source
   * for a create (answered with SourceOpened once any validation is over,
   * with its modules' bytes when `withBytes`; another system asks this to
   * fetch a source it lacks).
   */
  | { op: 'sourceLoad'; bytes: Uint8Array; info?: string; reply?: ActorAddress }
  | { op: 'sourceUnload'; hash: string; reply?: ActorAddress }
  | { op: 'sourceOpen'; hash: string; withBytes: boolean; reply: ActorAddress }
  | { op: 'updateCapability'; name: string; value: unknown; remove: boolean; ack?: ActorAddress }
  | { op: 'nameReleased'; name: string; hostKernel: string }
  | { op: 'aliasReleased'; id: string; hostKernel: string }
  | { op: 'createNamed'; name: string; spec: SpecRef; requirements: Capabilities | undefined }
  | { op: 'preRegisterRemote'; address: unknown; capabilities: unknown }
  | { op: 'deRegisterRemote'; address: unknown }
  | { op: 'shutdown' }
  /** From a client: create an actor, answering `ack` with Created. */
  | { op: 'clientCreate'; spec: SpecRef; options: CreateOptions; ack: ActorAddress }
  /** From a client: the system's status() to `reply`. */
  | { op: 'status'; reply: ActorAddress }
  | { op: 'log'; record: LogRecord };

export class AdminRequest {
  constructor(readonly request: AdminOp) {}
}

registerMessage(AdminRequest, 'thespis.internal.AdminRequest');
