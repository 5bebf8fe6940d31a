/**
 * The thread's side of the module loader hook (hook.ts): registers the hook
 * once per thread, on first use, and answers its questions from the module
 * providers registered here. See hook.ts for URLs and resolution rules.
 */
import type { MessagePort } from 'node:worker_threads';
import { dynamicImport } from './dynamic-import.js';
import { lazyBuiltin } from './lazy-builtin.js';

const nodeModule = lazyBuiltin<typeof import('node:module')>('node:module');
const workerThreads = lazyBuiltin<typeof import('node:worker_threads')>('node:worker_threads');

export const MODULE_SCHEME = 'thespis-mod:';

export interface ModuleSource {
  source: string | Uint8Array;
  /** How Node should read it: 'module' (the default), 'json' or 'commonjs'. */
  format?: 'module' | 'json' | 'commonjs';
}

export interface ModuleProvider {
  /** The module at `path` (absolute, '/'-separated) in the tree `key`; rejects with an error that names it when it cannot. */
  load(key: string, path: string): Promise<ModuleSource> | ModuleSource;
  /**
   * The URL of bare `specifier` imported by `importerPath` in tree `key` (a
   * thespis-mod:, node: or file: URL), or `{ resolveFrom }`: let Node resolve
   * it as if a module at that URL imported it.
   */
  resolveBare?(specifier: string, key: string, importerPath: string): Promise<BareResolution> | BareResolution;
}

export type BareResolution = string | { resolveFrom: string };

interface Request {
  id: number;
  op: 'resolve' | 'load';
  specifier?: string;
  url: string;
}

const providers = new Map<string, ModuleProvider>();
let hookUrl: string | (() => string) = new URL('./hook.js', import.meta.url).href;
let port: MessagePort | null = null;

/** `thespis-mod://<provider>/<key><path>`; `path` starts with '/'. */
export function moduleUrl(provider: string, key: string, path: string): string {
  if (!/^[a-z0-9-]+$/.test(provider) || !/^[A-Za-z0-9_.-]+$/.test(key)) throw new TypeError(`bad module provider or key: ${provider}/${key}`);
  const encoded = path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `${MODULE_SCHEME}//${provider}/${key}${encoded.startsWith('/') ? '' : '/'}${encoded}`;
}

/** The parts of a served module's URL, or null when it is not one. */
export function parseModuleUrl(url: string): { provider: string; key: string; path: string } | null {
  if (!url.startsWith(MODULE_SCHEME)) return null;
  const parsed = new URL(url);
  const provider = parsed.host;
  const rest = decodeURIComponent(parsed.pathname);
  const slash = rest.indexOf('/', 1);
  if (provider === '' || slash < 0) return null;
  return { provider, key: rest.slice(1, slash), path: rest.slice(slash) };
}

export function registerModuleProvider(name: string, provider: ModuleProvider): void {
  providers.set(name, provider);
}

/** The provider registered in this thread under `name`, if any. */
export function moduleProvider(name: string): ModuleProvider | undefined {
  return providers.get(name);
}

/**
 * Where the hook is registered from. A remote host has no file of it and
 * sets a `data:` URL of its text (made when first needed) before anything is imported.
 */
export function setLoaderHookUrl(url: string | (() => string)): void {
  hookUrl = url;
}

/** Registers the hook in this thread (once). */
export function ensureLoaderHook(): void {
  if (port !== null) return;
  const channel = new (workerThreads().MessageChannel)();
  port = channel.port1;
  port.on('message', (request: Request) => void answer(request));
  port.unref();
  const url = typeof hookUrl === 'string' ? hookUrl : hookUrl();
  nodeModule().register(url, { data: { port: channel.port2 }, transferList: [channel.port2] });
}

/** Imports a module, through the hook when it is served. */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  if (!url.startsWith(MODULE_SCHEME)) return dynamicImport(url);
  ensureLoaderHook();
  return importNatively(url);
}

/**
 * Served modules are imported by Node's own `import()`. A test runner or
 * bundler that rewrites `import()` in the files it loads (vitest does, in
 * the thread that runs the tests) knows nothing of their URLs, but leaves
 * `data:` modules to Node: the import is made from one.
 */
const NATIVE_IMPORTER = 'data:text/javascript,export default (url) => import(url)';
let nativeImport: ((url: string) => Promise<Record<string, unknown>>) | null = null;

async function importNatively(url: string): Promise<Record<string, unknown>> {
  nativeImport ??= ((await dynamicImport(NATIVE_IMPORTER)) as { default: (url: string) => Promise<Record<string, unknown>> }).default;
  return nativeImport(url);
}

async function answer(request: Request): Promise<void> {
  try {
    const at = parseModuleUrl(request.url);
    if (at === null) throw new Error(`not a served module: ${request.url}`);
    const provider = providers.get(at.provider);
    if (provider === undefined) throw new Error(`no module provider "${at.provider}" in this thread (for ${request.url})`);
    if (request.op === 'resolve') {
      if (provider.resolveBare === undefined) throw new Error(`cannot resolve "${request.specifier}" from ${request.url}: its provider serves no bare imports`);
      const resolved = await provider.resolveBare(request.specifier!, at.key, at.path);
      port!.postMessage(typeof resolved === 'string' ? { id: request.id, url: resolved } : { id: request.id, resolveFrom: resolved.resolveFrom });
    } else {
      const loaded = await provider.load(at.key, at.path);
      port!.postMessage({ id: request.id, source: loaded.source, format: loaded.format ?? 'module' });
    }
  } catch (error) {
    port!.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
}
