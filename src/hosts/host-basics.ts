/** What every Node-side kernel host does the same way: load classes, yield with setImmediate. */
import type { SourceRequester } from '../core/host.js';
import type { ActorClass, SpecRef } from '../core/spec.js';
import { loadActorClass } from './load-class.js';

export abstract class HostBasics {
  loadClass(ref: SpecRef): ActorClass | Promise<ActorClass> {
    return loadActorClass(ref);
  }

  /** A class from a loaded source (src/sources, loaded on first use: most kernels never need it). */
  async loadSourceClass(ref: SpecRef, hash: string, kernel: SourceRequester): Promise<ActorClass> {
    const { openSourceClass } = await import('../sources/open-source.js');
    return openSourceClass(ref, hash, kernel);
  }

  yieldThen(fn: () => void): void {
    setImmediate(fn);
  }
}
