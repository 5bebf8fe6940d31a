// src/native.ts: the addon loads from the package root, and when it is
// missing (here: THESPIS_NO_NATIVE=1 in a fresh process) every native
// feature fails with an error that says what to do.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NativeAddonMissingError } from '../src/errors.js';
import { native, nativeStatus, requireNative } from '../src/native.js';

const registerTs = fileURLToPath(new URL('./fixtures/native/register-ts.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs a fresh `node` that imports src/native.ts and reports on requireNative(feature). */
function probe(
  env: NodeJS.ProcessEnv,
  feature: string,
  nativeModule = new URL('../src/native.ts', import.meta.url).href,
): Promise<Record<string, unknown>> {
  const script = `
    const { requireNative, nativeStatus, native } = await import(${JSON.stringify(nativeModule)});
    let error = null;
    try { requireNative(${JSON.stringify(feature)}); } catch (e) { error = { name: e.name, message: e.message }; }
    console.log(JSON.stringify({ loaded: native !== null, status: nativeStatus(), error }));
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', registerTs, '--input-type=module', '-e', script],
      { env, timeout: 20_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`probe failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

describe('native addon status', () => {
  it('loads the built addon with every feature', () => {
    expect(nativeStatus()).toEqual({ available: true, missing: [] });
    expect(native).not.toBeNull();
    for (const feature of ['framing', 'fdpass', 'fork']) expect(requireNative(feature)).toBe(native);
    expect(native!.getpid()).toBe(process.pid);
  });

  it('THESPIS_NO_NATIVE=1 makes requireNative throw a helpful NativeAddonMissingError', async () => {
    const env = { ...process.env, THESPIS_NO_NATIVE: '1' };
    const result = await probe(env, 'fork');
    expect(result.loaded).toBe(false);
    expect(result.status).toMatchObject({ available: false, missing: [] });
    expect((result.status as { reason: string }).reason).toContain('THESPIS_NO_NATIVE');
    const error = result.error as { name: string; message: string };
    expect(error.name).toBe(NativeAddonMissingError.name);
    expect(error.message).toMatch(/^fork needs the thespis native addon/);
    for (const hint of ['npm install', 'npm run build:native', 'python3', 'make', 'g++', 'Unset THESPIS_NO_NATIVE']) {
      expect(error.message).toContain(hint);
    }
  });

  it('the same fresh process without the variable loads the addon', async () => {
    const env = { ...process.env };
    delete env.THESPIS_NO_NATIVE;
    const result = await probe(env, 'fork');
    expect(result).toEqual({ loaded: true, status: { available: true, missing: [] }, error: null });
  });

  it('names the feature, the reason and the build steps when the addon is not built', async () => {
    // A package root with the sources and dependencies but no build/ directory.
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'thespis-unbuilt-'));
    try {
      fs.mkdirSync(path.join(bare, 'src'));
      for (const file of ['native.ts', 'errors.ts']) fs.copyFileSync(path.join(root, 'src', file), path.join(bare, 'src', file));
      fs.symlinkSync(path.join(root, 'node_modules'), path.join(bare, 'node_modules'));
      const env = { ...process.env };
      delete env.THESPIS_NO_NATIVE;
      const result = await probe(env, 'fdpass', pathToFileURL(path.join(bare, 'src', 'native.ts')).href);
      expect(result.loaded).toBe(false);
      expect((result.status as { reason: string }).reason).toMatch(/^the addon is not built \(No native build was found/);
      const error = result.error as { name: string; message: string };
      expect(error.name).toBe(NativeAddonMissingError.name);
      expect(error.message).toMatch(/^fdpass needs the thespis native addon, which is not available: the addon is not built/);
      for (const hint of ['npm install', 'npm run build:native', bare, 'python3', 'g++']) expect(error.message).toContain(hint);
      expect(error.message).not.toContain('THESPIS_NO_NATIVE');
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });
});
