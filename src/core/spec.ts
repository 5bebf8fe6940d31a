/**
 * What createActor accepts, checked at the surface, and how a class is named
 * so another thread or process can load it (`{ module, exportName }`).
 */
import type { ActorAddress } from '../address.js';
import { InvalidActorSpecError } from '../errors.js';
import type { Capabilities, CapabilityCheck } from './placement/capabilities.js';

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
  if (sourceHash !== undefined && !isSourceHashText(sourceHash)) {
    throw new InvalidActorSpecError(`sourceHash must be a source's SHA-256 as 64 lowercase hex digits (what loadActorSource resolved to), got ${JSON.stringify(sourceHash)}`);
  }
  if (isActorClass(spec)) {
    const module = spec.module;
    if (module !== undefined && typeof module !== 'string') {
      throw new InvalidActorSpecError(`${spec.name}.module must be a string (use \`static module = import.meta.url\`)`);
    }
    // A class from a loaded source names its source in its module URL.
    const hash = sourceHash ?? (module ? sourceOfModule(module) : undefined);
    return {
      cls: spec,
      ref: module ? { module, exportName: spec.name, sourceHash: hash } : undefined,
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
    const module = spec.slice(0, hash);
    const exportName = spec.slice(hash + 1);
    if (sourceHash === undefined) return { ref: { module, exportName, sourceHash: sourceOfModule(module) }, label: spec };
    return { ref: { module: sourceModuleUrl(sourceHash, module), exportName, sourceHash }, label: spec };
  }
  if (typeof spec === 'function') {
    throw new InvalidActorSpecError(
      `${(spec as { name?: string }).name || 'this class'} is not an actor class: it has no receiveMessage method (extend Actor)`,
    );
  }
  throw new InvalidActorSpecError(`createActor needs an actor class or a "<module>#<Export>" string, not ${describe(spec)}`);
}

// ---- loadable sources (src/sources) ------------------------------------------------

/** A loaded source's modules are served as `thespis-mod://src/<hash>/<path>` (src/loader). */
const SOURCE_ROOT = 'thespis-mod://src/';

function isSourceHashText(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

/** The hash of the source a module URL belongs to, if it is one. */
export function sourceOfModule(module: string): string | undefined {
  if (!module.startsWith(SOURCE_ROOT)) return undefined;
  const hash = module.slice(SOURCE_ROOT.length, module.indexOf('/', SOURCE_ROOT.length));
  return isSourceHashText(hash) ? hash : undefined;
}

/**
 * The URL of `specifier` ('billing.js', './lib/a.js', '/billing.js', or the
 * URL itself) inside source `hash`; InvalidActorSpecError for a file URL or
 * a path that climbs out of the source.
 */
export function sourceModuleUrl(hash: string, specifier: string): string {
  const base = `${SOURCE_ROOT}${hash}/`;
  if (specifier.startsWith(SOURCE_ROOT)) {
    if (sourceOfModule(specifier) !== hash) throw new InvalidActorSpecError(`module ${specifier} is not in source ${hash}`);
    return specifier;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
    throw new InvalidActorSpecError(`with a sourceHash the spec names a module inside the source ("billing.js#Biller"), not ${specifier}`);
  }
  const url = new URL(specifier.replace(/^\/+/, ''), base).href;
  if (!url.startsWith(base) || url === base) throw new InvalidActorSpecError(`module "${specifier}" is not a file inside source ${hash}`);
  return url;
}

/** The source a reference's class comes from: its sourceHash, or the source its module URL lies in. */
export function sourceHashOf(ref: SpecRef): string | undefined {
  return ref.sourceHash ?? sourceOfModule(ref.module);
}

/**
 * The source an actor's child spec comes from: the one given, else the
 * parent's for a string spec that names no scheme ('billing.js#Biller'
 * inside a source's actor means that source's billing.js).
 */
export function childSourceHash(spec: unknown, given: string | undefined, parent: string | undefined): string | undefined {
  if (given !== undefined || parent === undefined || typeof spec !== 'string') return given;
  return /^[a-z][a-z0-9+.-]*:/i.test(spec) ? undefined : parent;
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
