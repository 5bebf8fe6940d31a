/**
 * Creating an actor from a loaded source, in any kernel: ask the system's
 * admin whether the source may be used (it answers once a pending
 * validation is over), take its modules' bytes with the answer if this
 * thread has none yet, then import the class through the loader hook.
 * Every create asks, so an unloaded source stops new creates everywhere at
 * once, while actors already running keep their class.
 */
import type { AdminOp } from '../core/admin-request.js';
import type { SourceRequester } from '../core/host.js';
import { sourceModuleUrl, type ActorClass, type SpecRef } from '../core/spec.js';
import { InvalidActorSpecError } from '../errors.js';
import { loadActorClass } from '../hosts/load-class.js';
import { callAdmin } from './admin-call.js';
import { SourceOpened } from './protocol.js';
import { addThreadSource, hasThreadSource, installSourceProviders } from './thread-sources.js';

/**
 * Longer than any validation may take (the admin answers when it expires),
 * so this fires only when the admin is gone.
 */
export const OPEN_TIMEOUT_MS = 15 * 60_000;

export async function openSourceClass(ref: SpecRef, hash: string, kernel: SourceRequester): Promise<ActorClass> {
  const url = sourceModuleUrl(hash, ref.module);
  const opened = await callAdmin<unknown>(
    kernel,
    (reply): AdminOp => ({ op: 'sourceOpen', hash, withBytes: !hasThreadSource(hash), reply }),
    OPEN_TIMEOUT_MS,
    `opening source ${hash}`,
  ).reply;
  if (!(opened instanceof SourceOpened) || opened.hash !== hash) throw new InvalidActorSpecError(`source ${hash}: the admin gave no answer about it`);
  if (opened.error !== undefined) throw new InvalidActorSpecError(opened.error);
  if (opened.bytes !== undefined) addThreadSource(hash, opened.bytes, opened.resolveFrom);
  if (!hasThreadSource(hash)) throw new InvalidActorSpecError(`source ${hash}: its modules did not reach kernel ${kernel.id}`);
  await installSourceProviders();
  return loadActorClass({ module: url, exportName: ref.exportName });
}
