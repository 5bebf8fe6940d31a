/**
 * System messages. They are plain classes so `instanceof` works, and they are
 * registered with the codec under fixed names so they arrive as instances after
 * crossing any boundary.
 */
import type { ActorAddress } from './address.js';

/** A user message class that can be registered with the codec. */
export type MessageClass<T = object> = abstract new (...args: never[]) => T;

interface Registration {
  readonly name: string;
  readonly cls: MessageClass;
}

const byName = new Map<string, Registration>();
const byClass = new Map<MessageClass, Registration>();

/**
 * Make instances of `cls` arrive as instances of `cls` (instead of plain data)
 * after they cross a thread, process or host. Call it at module top level, in
 * the module that defines the class, so every thread and process that loads
 * the module registers it too. Own enumerable fields travel; the constructor is
 * not called on the receiving side.
 */
export function registerMessage<T extends object>(cls: MessageClass<T>, name: string = cls.name): void {
  if (typeof cls !== 'function') throw new TypeError('registerMessage needs a class');
  if (!name) throw new TypeError('registerMessage needs a name for an anonymous class');
  const existing = byName.get(name);
  if (existing && existing.cls !== cls) {
    throw new TypeError(`registerMessage: the name "${name}" is already registered by another class`);
  }
  const reg = { name, cls: cls as MessageClass };
  byName.set(name, reg);
  byClass.set(cls as MessageClass, reg);
}

/** @internal The codec's view of the registry. */
export const messageRegistry = {
  nameOf(value: object): string | undefined {
    return byClass.get(value.constructor as MessageClass)?.name;
  },
  classOf(name: string): MessageClass | undefined {
    return byName.get(name)?.cls;
  },
};

/** Asks an actor to stop: it sees this message, then its children stop, then it stops. */
export class ActorExitRequest {}

/** Sent to a parent whenever one of its children stops, for any reason. */
export class ChildActorExited {
  constructor(readonly childAddress: ActorAddress) {}
}

/** Sent back to the sender of a message the target threw on twice. */
export class PoisonMessage {
  constructor(
    readonly poisonMessage: unknown,
    readonly details: string,
  ) {}
}

/** Given to the dead-letter handler for a message sent to an actor that no longer exists. */
export class DeadEnvelope {
  constructor(
    readonly deadAddress: ActorAddress,
    readonly deadMessage: unknown,
  ) {}
}

/** Delivered by `wakeupAfter`, from the actor itself. */
export class WakeupMessage {
  constructor(
    readonly delayMs: number,
    readonly payload: unknown = undefined,
  ) {}
}

/**
 * A system joined the convention or changed its capabilities (`remoteAdded`),
 * or left it. `remoteAdminAddress` is its admin address as text ("host:port",
 * what its `system.adminAddress` shows; "outbound:<systemId>" for an
 * outbound-only system).
 */
export class ActorSystemConventionUpdate {
  constructor(
    readonly remoteAdminAddress: string,
    readonly remoteCapabilities: Record<string, unknown>,
    readonly remoteAdded: boolean,
  ) {}
}

/** To the source authority: may this loaded source be used? */
export class ValidateSource {
  constructor(
    readonly sourceHash: string,
    readonly sourceData: Uint8Array,
    readonly sourceInfo: string | undefined = undefined,
  ) {}
}

/** From the source authority: the source is accepted (`sourceData` set) or rejected (undefined). */
export class ValidatedSource {
  constructor(
    readonly sourceHash: string,
    readonly sourceData: Uint8Array | undefined,
    readonly sourceInfo: string | undefined = undefined,
  ) {}
}

/** A source is now available for createActor(…, { sourceHash }). */
export class LoadedSource {
  constructor(
    readonly sourceHash: string,
    readonly sourceInfo: string | undefined = undefined,
  ) {}
}

/** A source was unloaded. */
export class UnloadedSource {
  constructor(
    readonly sourceHash: string,
    readonly sourceInfo: string | undefined = undefined,
  ) {}
}

const systemMessages: Array<[MessageClass, string]> = [
  [ActorExitRequest, 'thespis.ActorExitRequest'],
  [ChildActorExited, 'thespis.ChildActorExited'],
  [PoisonMessage, 'thespis.PoisonMessage'],
  [DeadEnvelope, 'thespis.DeadEnvelope'],
  [WakeupMessage, 'thespis.WakeupMessage'],
  [ActorSystemConventionUpdate, 'thespis.ActorSystemConventionUpdate'],
  [ValidateSource, 'thespis.ValidateSource'],
  [ValidatedSource, 'thespis.ValidatedSource'],
  [LoadedSource, 'thespis.LoadedSource'],
  [UnloadedSource, 'thespis.UnloadedSource'],
];
for (const [cls, name] of systemMessages) registerMessage(cls, name);
