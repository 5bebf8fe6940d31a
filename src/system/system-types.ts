/** The shapes ActorSystem and its clients share (kept apart so neither imports the other). */
import type { AdminStatus } from '../admin/admin.js';
import type { KernelStatus } from '../core/kernel.js';
import type { ConventionStatusEntry } from '../net/convention.js';
import type { RemoteHostStatus } from '../remote/remote-host.js';
import type { BaseName } from './system-options.js';

export type { MessageEndpoint } from '../endpoint.js';

export interface SystemStatus extends AdminStatus {
  systemId: string;
  pid: number;
  base: BaseName;
  /** "host:port" of the admin port, or null without one. */
  adminAddress: string | null;
  actors: number;
  /** Messages waiting: in mailboxes, held for actors being created, and in links. */
  pendingMessages: number;
  /** Actors paused by flow control. */
  pausedActors: number;
  threads: number;
  processes: number;
  /** Clients connected to the admin port. */
  clients: number;
  kernels: KernelStatus[];
  /** This system and the other members of its convention (just this one without a convention). */
  convention: ConventionStatusEntry[];
  /** Remote hosts: connected ones, then the last that went (with why). */
  hosts: RemoteHostStatus[];
}
