/**
 * The module loader hook: one `module.register` per thread, for every kernel
 * of the runtime (main thread, worker threads, child processes, remote hosts).
 * It serves modules that have no file here — forwarded from a parent system,
 * or (issue 13) read from a content-hashed source bundle — from memory.
 *
 * This file runs in Node's hooks thread and must stay self-contained (no
 * imports but `node:` builtins): on a remote host it is registered from a
 * `data:` URL, as nothing of thespis exists there as a file.
 *
 * URLs. A served module's URL is `thespis-mod://<provider>/<key>/<path>`:
 * `provider` names who serves it, `key` one tree of modules of that provider
 * (a host's parent, a source hash) and `path` a file in that tree. Only the
 * thread that registered the hook knows the providers; the hook asks it over
 * the MessagePort it was given (`initialize`), so a provider may take its
 * time (ask a parent host, say) without blocking anything.
 *
 * Resolution inside a served module:
 * - `node:` and bare builtin names resolve as usual;
 * - relative and absolute paths resolve within the same provider and key
 *   (a path that climbs out of the key's tree is refused);
 * - a specifier with a scheme (`file:`, `thespis-mod:`) is taken as it is;
 * - any other bare specifier (`thespis`, a package) is resolved by the
 *   provider (`resolveBare`), which answers with a URL, or with a URL to
 *   resolve it from with Node's own resolution (`resolveFrom`: a loadable
 *   source's packages are the hosting system's, found as Node finds them).
 * Everything outside `thespis-mod:` URLs goes to Node's own resolution.
 *
 * The provider API (the thread's side, src/loader/loader.ts):
 *
 *   registerModuleProvider(name, {
 *     load(key, path): Promise<{ source, format? }>,      // format: 'module' (default), 'json', 'commonjs'
 *     resolveBare?(specifier, key, importerPath): Promise<string | { resolveFrom }>,   // a URL, or where Node resolves it from
 *   });
 *   importServed(moduleUrl(name, key, path));             // registers the hook on first use
 */
import { isBuiltin } from 'node:module';
import type { MessagePort } from 'node:worker_threads';

const SCHEME = 'thespis-mod:';

interface Pending {
  resolve(value: Reply): void;
  reject(error: Error): void;
}

/** What the thread answers (see loader.ts): a URL for `resolve`, a source for `load`, or why not. */
interface Reply {
  id: number;
  url?: string;
  /** Resolve the specifier with Node's resolution, as if imported by this URL. */
  resolveFrom?: string;
  source?: string | Uint8Array;
  format?: string;
  error?: string;
}

let port: MessagePort | null = null;
let seq = 0;
const pending = new Map<number, Pending>();

export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  port.on('message', (reply: Reply) => {
    const waiting = pending.get(reply.id);
    if (waiting === undefined) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiting.reject(new Error(reply.error));
    else waiting.resolve(reply);
  });
  port.unref();
}

function ask(request: { op: 'resolve' | 'load'; specifier?: string; url: string }): Promise<Reply> {
  const id = ++seq;
  return new Promise<Reply>((resolve, reject) => {
    if (port === null) return reject(new Error('the thespis module loader is not initialised'));
    pending.set(id, { resolve, reject });
    port.ref();
    port.postMessage({ id, ...request });
  }).finally(() => {
    if (pending.size === 0) port?.unref();
  });
}

/** `thespis-mod://provider/key/` of a served URL. */
function treeOf(url: string): string {
  const afterScheme = SCHEME.length + 2;
  const providerEnd = url.indexOf('/', afterScheme);
  const keyEnd = providerEnd < 0 ? -1 : url.indexOf('/', providerEnd + 1);
  return keyEnd < 0 ? url : url.slice(0, keyEnd + 1);
}

type Next = (specifier: string, context?: unknown) => unknown;

export async function resolve(specifier: string, context: { parentURL?: string }, next: Next): Promise<unknown> {
  if (specifier.startsWith(SCHEME)) return { url: specifier, shortCircuit: true };
  const parent = context.parentURL;
  if (parent === undefined || !parent.startsWith(SCHEME)) return next(specifier, context);
  if (specifier.startsWith('node:') || isBuiltin(specifier)) {
    return { url: specifier.startsWith('node:') ? specifier : `node:${specifier}`, shortCircuit: true };
  }
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
    const tree = treeOf(parent);
    const url = new URL(specifier.startsWith('/') ? `.${specifier}` : specifier, specifier.startsWith('/') ? tree : parent).href;
    if (!url.startsWith(tree)) throw new Error(`${specifier} (imported by ${parent}) climbs out of its module tree ${tree}`);
    return { url, shortCircuit: true };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return next(specifier, { ...context, parentURL: undefined });
  const reply = await ask({ op: 'resolve', specifier, url: parent });
  if (reply.resolveFrom !== undefined) return next(specifier, { ...context, parentURL: reply.resolveFrom });
  return { url: reply.url, shortCircuit: true };
}

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const reply = await ask({ op: 'load', url });
  return { format: reply.format ?? 'module', source: reply.source, shortCircuit: true };
}
