/**
 * What a host's handle and the file transfers need from the hub that links
 * the system to its remote hosts (hub.ts): requests and one-way messages to a
 * host's kernel, and the transfers in progress. Named here so that neither
 * imports the hub.
 */

/** A file transfer in progress, fed the host's messages about it. */
export interface Transfer {
  host: string;
  receive(message: Record<string, unknown>): void;
  fail(error: Error): void;
}

/** A host as the hub and transfers see it. */
export interface HostRef {
  readonly kernelId: string;
  readonly connected: boolean;
}

export interface HubPort {
  nextId(): number;
  tell(kernelId: string, body: Record<string, unknown>): void;
  request(kernelId: string, body: Record<string, unknown>, id?: number): Promise<unknown>;
  readonly transfers: Map<number, Transfer>;
  close(host: HostRef): Promise<void>;
}
