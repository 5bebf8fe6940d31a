/**
 * The other systems of the convention as placement sees them: what each can
 * host (its capabilities) and how loaded it is. Every kernel keeps a copy
 * (the main kernel sends it round when membership or capabilities change),
 * because createActor must return an address at once, so a kernel that cannot
 * host an actor decides on the spot where it goes.
 */
import { satisfies, type Capabilities, type CapabilityCheck } from './capabilities.js';

export interface RemoteSystem {
  systemId: string;
  /** Its main kernel: a create placed there is placed again inside that system, never forwarded further. */
  kernel: string;
  capabilities: Capabilities;
  /** Actors it reported; raised here for each actor placed there since. */
  actors: number;
}

export class RemoteSystems {
  private systems: RemoteSystem[] = [];

  get size(): number {
    return this.systems.length;
  }

  update(systems: RemoteSystem[]): void {
    this.systems = systems.map((s) => ({ ...s }));
  }

  /** The least loaded system whose capabilities meet `requirements` (and `check`); counts the actor on it. */
  choose(requirements: Capabilities, check: CapabilityCheck | undefined): string | undefined {
    let best: RemoteSystem | undefined;
    for (const system of this.systems) {
      if (!satisfies(system.capabilities, requirements, check)) continue;
      if (best === undefined || system.actors < best.actors) best = system;
    }
    if (best === undefined) return undefined;
    best.actors++;
    return best.kernel;
  }

  list(): readonly RemoteSystem[] {
    return this.systems;
  }
}
