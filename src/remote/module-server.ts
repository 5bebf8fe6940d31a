/**
 * Module forwarding, the system's side: a host asks for a module by its path
 * here, and gets it together with every module its static imports reach under
 * the host's serve roots (and where each bare import leads), so a whole
 * static module graph costs the host one round trip. Files outside the roots
 * are never read: asking for one is refused with an error that names it.
 * Modules of thespis itself are not sent: the host runs its own copy of the
 * runtime, and gets a stand-in that re-exports it (so classes are shared).
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import { init, parse } from 'es-module-lexer';
import { ModuleRefusedError } from './errors.js';
import type { ModulesAnswer } from './forwarded-modules.js';

/** One answer holds at most this much (a later import of what is left costs another round trip). */
const MAX_MODULES = 2000;
const MAX_BYTES = 32 * 1024 * 1024;

/** thespis's own package directory (dist/remote/ is two levels below it). */
export const THESPIS_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
/** The built runtime: a host gets stand-ins for these modules, never their text. */
const RUNTIME_DIR = join(THESPIS_ROOT, 'dist');

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The nearest directory at or above `start` holding a package.json. */
export function packageRootOf(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

export class ModuleServer {
  private readonly ready = init;

  /** The module at `path` and its static graph under `roots`; throws ModuleRefusedError for a path outside them. */
  async serve(path: string, roots: readonly string[]): Promise<ModulesAnswer> {
    await this.ready;
    if (typeof path !== 'string' || !isAbsolute(path)) throw new ModuleRefusedError(`refused module ${String(path)}: not an absolute path`);
    const answer: ModulesAnswer = { modules: [], resolutions: [], shims: [] };
    const first = real(resolve(path));
    if (!within(first, RUNTIME_DIR) && !roots.some((root) => within(first, root))) {
      throw new ModuleRefusedError(`refused module ${path}: it is outside the served roots (${roots.join(', ') || 'none'})`);
    }
    const seen = new Set<string>();
    const queue = [resolve(path)];
    let bytes = 0;
    while (queue.length > 0 && answer.modules.length < MAX_MODULES && bytes < MAX_BYTES) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const at = real(file);
      if (within(at, RUNTIME_DIR)) {
        answer.shims.push([file, this.exportsOf(at)]);
        continue;
      }
      if (!roots.some((root) => within(at, root))) continue;
      let source: string;
      try {
        source = readFileSync(at, 'utf8');
      } catch (error) {
        if (file === resolve(path)) throw new ModuleRefusedError(`refused module ${path}: ${(error as Error).message}`);
        continue;
      }
      answer.modules.push([file, source]);
      bytes += source.length;
      for (const specifier of this.staticImports(source, file)) {
        if (isBuiltin(specifier)) continue;
        if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
          queue.push(resolve(dirname(file), specifier));
        } else if (specifier.startsWith('file:')) {
          queue.push(fileURLToPath(specifier));
        } else if (!/^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
          const target = resolveBare(specifier, file);
          if (target === undefined) continue;
          answer.resolutions.push([file, specifier, target]);
          if (target !== 'thespis') queue.push(target);
        }
      }
    }
    return answer;
  }

  /** Where bare `specifier` imported by `importer` leads: a path, or 'thespis'; refused outside the roots. */
  resolve(specifier: string, importer: string, roots: readonly string[]): string {
    const target = resolveBare(specifier, importer);
    if (target === undefined) throw new ModuleRefusedError(`cannot resolve "${specifier}" from ${importer}`);
    if (target !== 'thespis' && !within(real(target), RUNTIME_DIR) && !roots.some((root) => within(real(target), root))) {
      throw new ModuleRefusedError(`refused module ${target} ("${specifier}" from ${importer}): it is outside the served roots`);
    }
    return target;
  }

  private staticImports(source: string, file: string): string[] {
    try {
      const [imports] = parse(source, file);
      return imports.filter((i) => i.d === -1 && i.n !== undefined).map((i) => i.n!);
    } catch {
      return []; // not parseable here: Node will say why when the host imports it
    }
  }

  private exportsOf(path: string): string[] {
    try {
      return [...parse(readFileSync(path, 'utf8'), path)[1].map((e) => e.n)];
    } catch {
      return [];
    }
  }
}

/** Node's resolution of a package import, for the conditions an ES module sees ("node", "import", "default"). */
export function resolveBare(specifier: string, importer: string): string | undefined {
  if (specifier === 'thespis') return 'thespis';
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (let dir = dirname(importer); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) return resolveInPackage(pkgDir, subpath);
    if (dirname(dir) === dir) return undefined;
  }
}

function resolveInPackage(pkgDir: string, subpath: string): string | undefined {
  let pkg: { exports?: unknown; main?: string };
  try {
    pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return undefined;
  }
  if (pkg.exports !== undefined) {
    const exp = pkg.exports;
    const map = typeof exp === 'object' && exp !== null && !Array.isArray(exp) && Object.keys(exp).some((k) => k.startsWith('.')) ? (exp as Record<string, unknown>) : { '.': exp };
    const target = pickCondition(map[subpath]);
    return target === undefined ? undefined : join(pkgDir, target);
  }
  if (subpath !== '.') return join(pkgDir, subpath);
  const main = join(pkgDir, pkg.main ?? 'index.js');
  return existsSync(main) && statSync(main).isFile() ? main : existsSync(`${main}.js`) ? `${main}.js` : join(main, 'index.js');
}

const CONDITIONS = new Set(['node', 'import', 'module-sync', 'default']);

function pickCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const picked = pickCondition(item);
      if (picked !== undefined) return picked;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (!CONDITIONS.has(key)) continue;
      const picked = pickCondition(inner);
      if (picked !== undefined) return picked;
    }
  }
  return undefined;
}
