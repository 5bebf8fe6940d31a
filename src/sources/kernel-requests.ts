/**
 * Loading and unloading sources from any kernel (an actor's thread, a
 * client): a directory is read into canonical bytes where it is named, an
 * archive file's bytes are sent as they are (the system unpacks archives),
 * and the system's admin answers with the hash.
 */
import type { AdminOp } from '../core/admin-request.js';
import type { SourceRequester } from '../core/host.js';
import { InvalidActorSpecError, ThespisError } from '../errors.js';
import { callAdmin } from './admin-call.js';
import { InvalidSourceError } from './errors.js';
import { SourceReply } from './protocol.js';
import { readSourceInput } from './bundle/read-input.js';

const REQUEST_TIMEOUT_MS = 60_000;

export async function requestLoad(kernel: SourceRequester, source: string | Uint8Array, send?: (op: AdminOp) => void, settle: <T>(p: Promise<T>) => Promise<T> = (p) => p): Promise<string> {
  const { bytes, info } = await readSourceInput(source);
  const reply = await settle(callAdmin<unknown>(kernel, (address): AdminOp => ({ op: 'sourceLoad', bytes, info, reply: address }), REQUEST_TIMEOUT_MS, 'loadActorSource', send).reply);
  const answer = checked(reply, 'loadActorSource');
  return answer.hash!;
}

export async function requestUnload(kernel: SourceRequester, hash: string, send?: (op: AdminOp) => void, settle: <T>(p: Promise<T>) => Promise<T> = (p) => p): Promise<boolean> {
  if (typeof hash !== 'string') throw new TypeError('unloadActorSource: the hash is a string (what loadActorSource resolved to)');
  const reply = await settle(callAdmin<unknown>(kernel, (address): AdminOp => ({ op: 'sourceUnload', hash, reply: address }), REQUEST_TIMEOUT_MS, 'unloadActorSource', send).reply);
  return checked(reply, 'unloadActorSource').found;
}

function checked(reply: unknown, what: string): SourceReply {
  if (!(reply instanceof SourceReply)) throw new ThespisError(`${what}: the system gave no answer`);
  if (reply.error === undefined && reply.hash !== undefined) return reply;
  const message = reply.error ?? 'refused';
  if (reply.errorName === 'InvalidSourceError') throw new InvalidSourceError(message);
  if (reply.errorName === 'InvalidActorSpecError') throw new InvalidActorSpecError(message);
  if (reply.errorName === 'TypeError') throw new TypeError(message);
  throw new ThespisError(`${what}: ${message}`);
}
