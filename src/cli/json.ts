/**
 * Messages in and replies out as JSON text. A reply may hold what JSON has
 * no words for (addresses, BigInt, Map, Set, typed arrays, errors): each is
 * written in the form a person would type back (an address as its text form).
 */
import { ActorAddress } from '../address.js';
import { UsageError } from './command.js';

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const hint = /^[A-Za-z_]/.test(text.trim()) ? ` (a string needs its quotes: '"${text}"')` : '';
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}${hint}`);
  }
}

export function toJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, replacer, indent) ?? 'null';
  } catch (error) {
    return JSON.stringify(`unprintable reply: ${(error as Error).message}`);
  }
}

/** Sees each value before its toJSON (as `this[key]`); the top level's holder is `{ "": value }`. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const original = this[key];
  if (original instanceof ActorAddress) return String(original);
  if (typeof original === 'bigint') return original.toString();
  if (original instanceof Map) {
    const entries = [...original.entries()];
    return entries.every(([k]) => typeof k === 'string') ? Object.fromEntries(entries) : entries;
  }
  if (original instanceof Set) return [...original];
  if (ArrayBuffer.isView(original) && !(original instanceof DataView)) return Array.from(original as unknown as ArrayLike<number>);
  if (original instanceof Error) return { name: original.name, message: original.message };
  return value;
}
