// Finding suite files and reading what they declare. Suite files keep their top
// level cheap and free of thespis imports (those go inside run), so the driver
// can read every declaration even before dist/ is built.

import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SUITE_DIRS = ['suites', 'peers'];

const DEFAULTS = {
  figures: [],
  compare: [],
  repeats: { full: 5, quick: 2 },
  timeoutMs: { full: 180_000, quick: 20_000 },
  nodeArgs: [],
};

export function discover(benchDir, filters = []) {
  const files = [];
  for (const dir of SUITE_DIRS) {
    let names = [];
    try {
      names = readdirSync(join(benchDir, dir));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.js')).sort()) {
      const rel = `${dir}/${name}`;
      if (filters.length === 0 || filters.some((f) => rel.includes(f))) files.push(join(benchDir, rel));
    }
  }
  return files.map((file) => ({ file, rel: relative(benchDir, file) }));
}

/** The suite's declarations with defaults filled in; `error` set if it will not load. */
export async function loadMeta(entry) {
  try {
    const suite = (await import(pathToFileURL(entry.file).href)).default;
    if (!suite || typeof suite.run !== 'function') throw new Error('default export has no run(ctx)');
    return { ...entry, ...DEFAULTS, ...suite, run: undefined };
  } catch (e) {
    return { ...entry, ...DEFAULTS, figures: [entry.rel], error: e };
  }
}
