/**
 * What createActor accepts, checked at the surface, and how a class is named
 * so another thread or process can load it (`{ module, exportName }`).
 */
import type { ActorAddress } from '../address.js';
import { InvalidActorSpecError } from '../errors.js';
import type { Capabilities, CapabilityCheck } from './capabilities.js';

/** The part of an actor the kernel calls. */
export interface ActorBehavior {
  receiveMessage(message: unknown, sender: ActorAddress): void | PromiseLike<void>;
}

export interface TroupeOptions {
  max: number;
  idle?: number;
}

/** An actor class as the kernel sees it: its static options. */
export interface ActorClass {
  new (): ActorBehavior;
  readonly name: string;
  module?: string;
  requirements?: Capabilities;
  capabilityCheck?: CapabilityCheck;
  troupe?: TroupeOptions;
  idleTimeoutMs?: number;
}

/** A serialisable reference to an actor class. */
export interface SpecRef {
  module: string;
  exportName: string;
  sourceHash?: string;
}

export type ActorSpec = ActorClass | string;

export interface ResolvedSpec {
  /** Present when the class is at hand in this thread. */
  cls?: ActorClass;
  /** Present when the class can be loaded elsewhere. */
  ref?: SpecRef;
  /** For messages: the class name or the string spec. */
  label: string;
}

export function isActorClass(value: unknown): value is ActorClass {
  return (
    typeof value === 'function' &&
    typeof (value as { prototype?: { receiveMessage?: unknown } }).prototype?.receiveMessage === 'function'
  );
}

export function resolveSpec(spec: unknown, sourceHash?: string): ResolvedSpec {
  if (isActorClass(spec)) {
    const module = spec.module;
    if (module !== undefined && typeof module !== 'string') {
      throw new InvalidActorSpecError(`${spec.name}.module must be a string (use \`static module = import.meta.url\`)`);
    }
    return {
      cls: spec,
      ref: module ? { module, exportName: spec.name, sourceHash } : undefined,
      label: spec.name,
    };
  }
  if (typeof spec === 'string') {
    const hash = spec.lastIndexOf('#');
    if (hash <= 0 || hash === spec.length - 1) {
      throw new InvalidActorSpecError(
        `actor spec "${spec}" must be "<module>#<Export>" (a file URL, an absolute path, or a specifier inside a loaded source)`,
      );
    }
    return { ref: { module: spec.slice(0, hash), exportName: spec.slice(hash + 1), sourceHash }, label: spec };
  }
  if (typeof spec === 'function') {
    throw new InvalidActorSpecError(
      `${(spec as { name?: string }).name || 'this class'} is not an actor class: it has no receiveMessage method (extend Actor)`,
    );
  }
  throw new InvalidActorSpecError(`createActor needs an actor class or a "<module>#<Export>" string, not ${describe(spec)}`);
}

/** The requirements of a class merged with per-create requirements. */
export function requirementsOf(cls: ActorClass | undefined, extra: Capabilities | undefined): Capabilities {
  return { ...(cls?.requirements ?? {}), ...(extra ?? {}) };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A remote host (system.connectHost) as placement sees it: the kernel it runs. */
export interface RemoteHostRef {
  readonly kernelId: string;
}

/** Options of createActor (public: see Actor.createActor and ActorSystem.createActor). */
export interface CreateOptions {
  globalName?: string;
  requirements?: Capabilities;
  sourceHash?: string;
  host?: 'inline' | 'worker' | 'process' | RemoteHostRef;
  startup?: 'spawn' | 'fork' | 'forkserver';
  dedicated?: boolean;
}
