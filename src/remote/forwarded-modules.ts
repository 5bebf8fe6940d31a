/**
 * Module forwarding, the host's side: the `fwd` provider of the loader hook
 * serves modules its parent system sends (its files, by their paths there),
 * and the `rt` provider serves thespis itself as the runtime this host
 * already runs (so an actor module's `import ... from 'thespis'` gets the
 * very classes the kernel uses). One request fetches a module together with
 * every module its static imports reach under the parent's serve roots, and
 * the answers are kept for the life of the host: a module graph costs one
 * round trip, not one per module. Concurrent requests for a module share one.
 */
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULE_SCHEME, moduleUrl, registerModuleProvider, type ModuleProvider, type ModuleSource } from '../loader/loader.js';

export const RUNTIME_KEY = Symbol.for('thespis.remote.runtime');
const PARENT = 'p';

/** The served URL for an actor module or call reference given as a file URL or path of the parent. */
export function servedUrl(module: string): string {
  if (module.startsWith(MODULE_SCHEME) || module.startsWith('node:') || module.startsWith('data:')) return module;
  if (module.startsWith('file:')) return moduleUrl('fwd', PARENT, fileURLToPath(module));
  if (isAbsolute(module)) return moduleUrl('fwd', PARENT, module);
  return module;
}

export interface ModulesAnswer {
  modules: Array<[string, string]>;
  resolutions: Array<[string, string, string]>;
  shims: Array<[string, string[]]>;
}

function shimSource(names: readonly string[]): string {
  const valid = names.filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
  return `const t = globalThis[Symbol.for('thespis.remote.runtime')];\nexport const { ${valid.join(', ')} } = t;\n`;
}

export class ForwardedModules implements ModuleProvider {
  private readonly sources = new Map<string, string>();
  private readonly shims = new Map<string, string[]>();
  private readonly resolutions = new Map<string, string>();
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(
    /** Asks the parent for the module at `path` and the graph under it. */
    private readonly fetchModules: (path: string) => Promise<ModulesAnswer>,
    /** Asks the parent where a bare import leads (when no answer said it yet). */
    private readonly fetchResolution: (specifier: string, importer: string) => Promise<string>,
  ) {}

  async load(_key: string, path: string): Promise<ModuleSource> {
    if (!this.sources.has(path) && !this.shims.has(path)) await this.fetch(path);
    const shim = this.shims.get(path);
    if (shim !== undefined) return { source: shimSource(shim) };
    const source = this.sources.get(path);
    if (source === undefined) throw new Error(`the parent did not send ${path}`);
    return { source };
  }

  async resolveBare(specifier: string, _key: string, importer: string): Promise<string> {
    if (specifier === 'thespis') return runtimeUrl();
    const key = `${importer}\0${specifier}`;
    let target = this.resolutions.get(key);
    if (target === undefined) {
      target = await this.fetchResolution(specifier, importer);
      this.resolutions.set(key, target);
    }
    return target === 'thespis' ? runtimeUrl() : moduleUrl('fwd', PARENT, target);
  }

  private fetch(path: string): Promise<void> {
    let fetching = this.fetching.get(path);
    if (fetching === undefined) {
      fetching = this.fetchModules(path).then((answer) => this.keep(answer));
      fetching.finally(() => this.fetching.delete(path)).catch(() => undefined);
      this.fetching.set(path, fetching);
    }
    return fetching;
  }

  private keep(answer: ModulesAnswer): void {
    for (const [path, source] of answer.modules) this.sources.set(path, source);
    for (const [path, names] of answer.shims) this.shims.set(path, names);
    for (const [importer, specifier, target] of answer.resolutions) this.resolutions.set(`${importer}\0${specifier}`, target);
  }
}

function runtimeUrl(): string {
  return moduleUrl('rt', 'thespis', '/index.js');
}

/** Registers the `fwd` and `rt` providers in this thread. */
export function installForwarding(forwarded: ForwardedModules): void {
  registerModuleProvider('fwd', forwarded);
  registerModuleProvider('rt', {
    load: () => {
      const runtime = (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] as Record<string, unknown> | undefined;
      return { source: shimSource(Object.keys(runtime ?? {})) };
    },
  });
}
