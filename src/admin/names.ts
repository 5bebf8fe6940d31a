/** Global names: one actor per name per system. */
import type { ActorAddress } from '../address.js';
import type { NameRegistry } from '../core/kernel.js';

export class NameTable implements NameRegistry {
  private readonly byName = new Map<string, ActorAddress>();

  lookup(name: string): ActorAddress | undefined {
    return this.byName.get(name);
  }

  register(name: string, address: ActorAddress): void {
    this.byName.set(name, address);
  }

  /** Frees the name only if it still points at this actor (a newer one may hold it). */
  release(name: string, address: ActorAddress): void {
    if (this.byName.get(name)?.equals(address)) this.byName.delete(name);
  }

  get size(): number {
    return this.byName.size;
  }
}
