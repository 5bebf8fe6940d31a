/** Global names: one actor per name per system. */
import type { ActorAddress } from '../address.js';
import type { NameRegistry } from '../core/kernel.js';

export class NameTable implements NameRegistry {
  private readonly byName = new Map<string, { address: ActorAddress; host: string }>();

  lookup(name: string): ActorAddress | undefined {
    return this.byName.get(name)?.address;
  }

  hostOf(name: string): string | undefined {
    return this.byName.get(name)?.host;
  }

  register(name: string, address: ActorAddress, hostKernel: string): void {
    this.byName.set(name, { address, host: hostKernel });
  }

  /**
   * Actors other systems created here (their address names this system's
   * main kernel) that live on another kernel of this system, by id.
   */
  private readonly aliases = new Map<string, string>();

  aliasHost(id: string): string | undefined {
    return this.aliases.size === 0 ? undefined : this.aliases.get(id);
  }

  alias(id: string, hostKernel: string): void {
    this.aliases.set(id, hostKernel);
  }

  unalias(id: string, hostKernel: string): void {
    if (this.aliases.get(id) === hostKernel) this.aliases.delete(id);
  }

  /** Frees the name only if it is still held by the actor on `hostKernel` (a newer one may hold it). */
  release(name: string, hostKernel: string): void {
    if (this.byName.get(name)?.host === hostKernel) this.byName.delete(name);
  }

  get size(): number {
    return this.byName.size;
  }
}
