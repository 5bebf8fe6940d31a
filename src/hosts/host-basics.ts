/** What every Node-side kernel host does the same way: load classes, yield with setImmediate. */
import type { ActorClass, SpecRef } from '../core/spec.js';
import { loadActorClass } from './load-class.js';

export abstract class HostBasics {
  loadClass(ref: SpecRef): ActorClass | Promise<ActorClass> {
    return loadActorClass(ref);
  }

  yieldThen(fn: () => void): void {
    setImmediate(fn);
  }
}
