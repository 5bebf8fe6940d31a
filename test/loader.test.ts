// The module loader hook (src/loader): modules served from memory by a
// provider in the thread, with relative imports inside their tree, builtins,
// bare imports resolved by the provider, and paths that climb out refused.
// Runs in a plain node process: vitest's own module runner handles import()
// in the modules it loads.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const CHECK = fileURLToPath(new URL('./fixtures/loader-check.mjs', import.meta.url));
let seen: Record<string, unknown> = {};

beforeAll(async () => {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [CHECK], (error, out, err) => (error ? reject(new Error(`${error.message} ${err}`)) : resolve(out))),
  );
  seen = JSON.parse(stdout) as Record<string, unknown>;
});

describe('module loader hook', () => {
  it('serves a module tree from memory: relative imports, builtins, bare imports through the provider', () => {
    expect(seen.answer).toBe(42);
    expect(seen.hasSep).toBe(true);
    expect(seen.sameActor).toBe(true);
    expect(seen.url).toBe('thespis-mod://test/tree1/main.js');
    expect(seen.loads).toEqual(['tree1/main.js', 'tree1/lib/math.js']);
  });

  it('keeps trees apart: the same path in another key is another module', () => {
    expect(seen.tree2).toBe('function');
    expect(seen.tree2Loads).toEqual(['tree2/lib/math.js']);
  });

  it('refuses an import that climbs out of its tree, and says what is missing', () => {
    expect(seen.escape).toMatch(/climbs out of its module tree/);
    expect(seen.missing).toMatch(/no module \/nowhere\.js in tree tree1/);
    expect(seen.noProvider).toMatch(/no module provider "nobody"/);
  });

  it('serves JSON, and parses its own URLs', () => {
    expect(seen.json).toEqual({ a: 1 });
    expect(seen.parsed).toEqual({ provider: 'test', key: 'k', path: '/a b/c.js' });
    expect(seen.notServed).toBeNull();
  });
});
