/** "<module>#<Export>" as typed: a path here becomes the file URL a system imports. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './command.js';

export function splitSpec(spec: string): { module: string; exportName: string } {
  const hash = spec.lastIndexOf('#');
  if (hash <= 0 || hash === spec.length - 1) throw new UsageError(`"${spec}" is not <module>#<Export> (for example ./greeter.js#Greeter)`);
  return { module: spec.slice(0, hash), exportName: spec.slice(hash + 1) };
}

/** A URL stays as it is; a path (relative to `cwd`) becomes a file URL. */
export function moduleUrl(module: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]+:/i.test(module)) return module;
  return pathToFileURL(resolve(cwd, module)).href;
}
