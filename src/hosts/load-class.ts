/**
 * Loads an actor class named by `{ module, exportName }` in this thread or
 * process. Module specifiers are file URLs or absolute paths.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isActorClass, type ActorClass, type SpecRef } from '../core/spec.js';
import { InvalidActorSpecError } from '../errors.js';
import { dynamicImport } from '../loader/dynamic-import.js';

/** Served modules (src/loader): the hook is loaded and registered only when one is imported. */
const MODULE_SCHEME = 'thespis-mod:';

/** Classes already loaded in this thread, by "<module>#<export>": later creates construct synchronously. */
const loaded = new Map<string, ActorClass>();

/** The class at once when this thread has loaded it before, else a promise of it. */
export function loadActorClass(ref: SpecRef): ActorClass | Promise<ActorClass> {
  const key = `${ref.module}#${ref.exportName}`;
  return loaded.get(key) ?? importActorClass(ref).then((cls) => (loaded.set(key, cls), cls));
}

async function importActorClass(ref: SpecRef): Promise<ActorClass> {
  const url = toImportable(ref.module);
  let mod: Record<string, unknown>;
  try {
    mod = url.startsWith(MODULE_SCHEME) ? await (await import('../loader/loader.js')).importModule(url) : await dynamicImport(url);
  } catch (error) {
    throw new InvalidActorSpecError(`cannot load actor module ${ref.module}: ${(error as Error).message}`, { cause: error });
  }
  const direct = mod[ref.exportName];
  if (isActorClass(direct)) return direct;
  // A class exported under another name (or as default) still has its own name.
  for (const value of Object.values(mod)) {
    if (isActorClass(value) && value.name === ref.exportName) return value;
  }
  throw new InvalidActorSpecError(`module ${ref.module} has no actor class exported as "${ref.exportName}"`);
}

export function toImportable(specifier: string): string {
  if (specifier.startsWith('file:') || specifier.startsWith(MODULE_SCHEME) || specifier.startsWith('data:') || specifier.startsWith('node:')) return specifier;
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  throw new InvalidActorSpecError(`actor module "${specifier}" must be a file URL or an absolute path`);
}
