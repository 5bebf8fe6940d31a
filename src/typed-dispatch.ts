/**
 * Typed dispatch: an actor whose handler is chosen by the message's class.
 *
 * Define methods named `receiveMsg_<ClassName>`; a message goes to the handler
 * of its own class, else of its nearest superclass (so `receiveMsg_Object`
 * catches any object). Primitives use their type name: `receiveMsg_string`,
 * `receiveMsg_number`, `receiveMsg_boolean`, `receiveMsg_bigint`; `null` and
 * `undefined` use `receiveMsg_null` / `receiveMsg_undefined`. Anything with no
 * handler goes to `receiveUnrecognizedMessage` (by default: ignored).
 */
import { Actor } from './actor.js';
import type { ActorAddress } from './address.js';

type Handler = (this: ActorTypeDispatcher, message: unknown, sender: ActorAddress) => void | Promise<void>;

/** Handler lookups per actor class, per message class: the prototype walk happens once. */
const lookups = new WeakMap<object, Map<unknown, Handler | null>>();

export abstract class ActorTypeDispatcher extends Actor {
  receiveMessage(message: unknown, sender: ActorAddress): void | Promise<void> {
    const handler = handlerFor(Object.getPrototypeOf(this) as object, message);
    if (handler !== null) return handler.call(this, message, sender);
    return this.receiveUnrecognizedMessage(message, sender);
  }

  /** Called for a message no `receiveMsg_*` method matches. */
  receiveUnrecognizedMessage(_message: unknown, _sender: ActorAddress): void | Promise<void> {}
}

function handlerFor(proto: object, message: unknown): Handler | null {
  let table = lookups.get(proto);
  if (table === undefined) lookups.set(proto, (table = new Map()));
  const key = keyOf(message);
  let handler = table.get(key);
  if (handler === undefined) {
    handler = find(proto, message);
    table.set(key, handler);
  }
  return handler;
}

/** Objects are keyed by constructor; primitives by type name. */
function keyOf(message: unknown): unknown {
  if (message === null) return 'null';
  if (typeof message === 'object') return (message as object).constructor ?? 'Object';
  return typeof message;
}

function find(proto: object, message: unknown): Handler | null {
  const methods = proto as Record<string, unknown>;
  if (message === null || typeof message !== 'object') {
    const name = message === null ? 'null' : typeof message;
    const fn = methods[`receiveMsg_${name}`];
    return typeof fn === 'function' ? (fn as Handler) : null;
  }
  for (let p = Object.getPrototypeOf(message) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const ctor = (p as { constructor?: { name?: string } }).constructor;
    const fn = ctor?.name ? methods[`receiveMsg_${ctor.name}`] : undefined;
    if (typeof fn === 'function') return fn as Handler;
  }
  // Object.create(null) objects: treat as plain objects.
  const fallback = methods.receiveMsg_Object;
  return typeof fallback === 'function' ? (fallback as Handler) : null;
}
