/**
 * A thread's copy of the sources its actors come from, and the `src`
 * provider of the module loader hook (src/loader) that serves their modules
 * from memory as `thespis-mod://src/<hash>/<path>`:
 *
 * - relative imports stay inside the source (the hook refuses a path that
 *   climbs out of its tree), so two sources may hold the same paths;
 * - `thespis` is the runtime this thread already runs (a stand-in module
 *   re-exports it), so `Actor` and the message classes are shared;
 * - any other bare import is resolved by Node from the hosting system's
 *   `resolveFrom` URL (its packages); on a remote host, by the system, as
 *   module forwarding resolves it.
 *
 * A thread gets a source's bytes with the admin's answer to its first create
 * from it (open-source.ts) and keeps them for its life: Node keeps the
 * modules it imported anyway, and an actor may import more of its source later.
 */
import { moduleProvider, moduleUrl, registerModuleProvider, type ModuleSource } from '../loader/loader.js';
import { decodeCanonical } from './bundle/canonical.js';

interface ThreadSource {
  files: Map<string, Uint8Array>;
  /** Where this system's bare imports resolve from (a file URL), if it said. */
  resolveFrom: string | undefined;
}

const sources = new Map<string, ThreadSource>();
/** The runtime as a remote host holds it (remote/runtime-pack.ts), if this is one. */
const REMOTE_RUNTIME = Symbol.for('thespis.remote.runtime');
/** The runtime's exports for the stand-in `thespis` of source modules, set before the first is imported. */
const RUNTIME = Symbol.for('thespis.sources.runtime');
let installed: Promise<void> | null = null;

export function hasThreadSource(hash: string): boolean {
  return sources.has(hash);
}

/** Keeps a source's files in this thread (canonical bytes, checked as they are decoded). */
export function addThreadSource(hash: string, bytes: Uint8Array, resolveFrom: string | undefined): void {
  if (!sources.has(hash)) sources.set(hash, { files: decodeCanonical(bytes), resolveFrom });
}

/** Registers the providers (once per thread); resolves when the runtime stand-in is ready. */
export function installSourceProviders(): Promise<void> {
  installed ??= install();
  return installed;
}

async function install(): Promise<void> {
  const global = globalThis as Record<symbol, unknown>;
  if (global[REMOTE_RUNTIME] === undefined && global[RUNTIME] === undefined) {
    // Computed, so the bundler of the remote runtime leaves the whole package out.
    const index = new URL('../index.js', import.meta.url).href;
    global[RUNTIME] = { ...((await import(index)) as Record<string, unknown>) };
  }
  registerModuleProvider('src', { load: loadModule, resolveBare });
  registerModuleProvider('srt', { load: () => ({ source: standIn(global[RUNTIME] as Record<string, unknown>, 'thespis.sources.runtime') }) });
}

function standIn(runtime: Record<string, unknown>, key: string): string {
  const names = Object.keys(runtime).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  return `const t = globalThis[Symbol.for(${JSON.stringify(key)})];\nexport const { ${names.join(', ')} } = t;\n`;
}

function loadModule(hash: string, path: string): ModuleSource {
  const source = sources.get(hash);
  if (source === undefined) throw new Error(`source ${hash} is not loaded in this thread`);
  const name = path.slice(1);
  const content = source.files.get(name);
  if (content === undefined) throw new Error(`source ${hash.slice(0, 12)} has no module ${name}`);
  if (name.endsWith('.js') || name.endsWith('.mjs')) return { source: content, format: 'module' };
  if (name.endsWith('.json')) return { source: content, format: 'json' };
  throw new Error(`source ${hash.slice(0, 12)}: ${name} cannot be imported (a source's modules are .js or .mjs ES modules, and .json)`);
}

function resolveBare(specifier: string, hash: string, importerPath: string): string | { resolveFrom: string } | Promise<string> {
  const remote = (globalThis as Record<symbol, unknown>)[REMOTE_RUNTIME] !== undefined;
  if (specifier === 'thespis') return remote ? moduleUrl('rt', 'thespis', '/index.js') : moduleUrl('srt', 'thespis', '/index.js');
  const resolveFrom = sources.get(hash)?.resolveFrom;
  if (resolveFrom === undefined) throw new Error(`cannot resolve "${specifier}" (imported by ${importerPath} in source ${hash.slice(0, 12)}): its system did not say where its packages are`);
  const forwarding = remote ? moduleProvider('fwd') : undefined;
  if (forwarding?.resolveBare !== undefined) {
    // A remote host has none of the system's packages: the system resolves
    // the import as if a module in its package had made it, and the host
    // fetches what it leads to through module forwarding.
    const asked = forwarding.resolveBare(specifier, 'p', new URL(resolveFrom).pathname);
    return Promise.resolve(asked).then((url) => {
      if (typeof url !== 'string') throw new Error(`cannot resolve "${specifier}" on this host`);
      return url;
    });
  }
  return { resolveFrom };
}
