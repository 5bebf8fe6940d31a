// Signed sources: signing and verifying (node:crypto Ed25519), the files
// `thespis source sign|verify` write and read, and SignedSourceAuthority in a
// system accepting only sources signed with a key it trusts.
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem, InvalidActorSpecError, SignedSourceAuthority, SourceSignatureError, TrustSourceKeys, type ActorAddress } from '../dist/index.js';
import { readSource } from '../dist/sources/bundle/archives.js';
import { publicKeyText, SIGNATURE_FILE, signFiles, verifyFiles } from '../dist/sources/signing/signing.js';
import { signSourceAt, verifySourceAt } from '../dist/sources/bundle/source-files.js';
import { TEST_PRIVATE_KEY, TEST_PUBLIC_KEY } from './fixtures/sources/trusting-authority.js';
import { removeTempDirs, tempDir } from './sources-helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/sources/', import.meta.url));

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
  removeTempDirs();
});

function keys(): { privateKey: string; publicKey: string } {
  const pair = generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

/** A copy of the billing source to sign and tamper with. */
function billingCopy(): string {
  const dir = join(tempDir(), 'billing');
  cpSync(`${FIXTURES}billing`, dir, { recursive: true });
  return dir;
}

const signatureError = (run: () => unknown, pattern: RegExp): void => {
  let error: unknown = null;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SourceSignatureError);
  expect((error as Error).message).toMatch(pattern);
};

describe('signing and verifying', () => {
  it('a signed source verifies; any change to a file, an added file or a changed signature does not', async () => {
    const { privateKey, publicKey } = keys();
    const { files } = await readSource(`${FIXTURES}billing`);
    const signed = signFiles(files, privateKey);
    expect(verifyFiles(signed, [publicKey])).toEqual({ key: publicKeyText(publicKey), contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const edited = new Map(signed).set('lib/rates.js', new TextEncoder().encode('export const rate = 3;\n'));
    signatureError(() => verifyFiles(edited), /changed after it was signed/);
    signatureError(() => verifyFiles(new Map(signed).set('extra.js', new Uint8Array())), /changed after it was signed/);
    const signature = JSON.parse(new TextDecoder().decode(signed.get(SIGNATURE_FILE))) as { signature: string };
    const flipped = Buffer.from(signature.signature, 'base64');
    flipped[0]! ^= 1;
    signatureError(() => verifyFiles(new Map(signed).set(SIGNATURE_FILE, new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(signed.get(SIGNATURE_FILE))), signature: flipped.toString('base64') })))), /does not match/);
    signatureError(() => verifyFiles(signed, [keys().publicKey]), /signed with key .* which is not trusted/);
    signatureError(() => verifyFiles(files), /not signed/);
    signatureError(() => verifyFiles(new Map(files).set(SIGNATURE_FILE, new TextEncoder().encode('{'))), /not JSON/);
    signatureError(() => signFiles(files, 'not a key'), /not a usable private key/);
    signatureError(() => signFiles(files, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), /Ed25519 private key/);
  });

  it('sign writes the signature into a directory, or a signed zip beside an archive; verify reads both, with the same hash', async () => {
    const dir = billingCopy();
    const keyFile = join(tempDir(), 'key.pem');
    writeFileSync(keyFile, TEST_PRIVATE_KEY);
    const intoDir = await signSourceAt(dir, keyFile);
    expect(intoDir.written).toBe(join(dir, SIGNATURE_FILE));
    expect(existsSync(intoDir.written)).toBe(true);
    expect(intoDir.key).toBe(publicKeyText(TEST_PUBLIC_KEY));
    const zip = await signSourceAt(`${FIXTURES}billing`, TEST_PRIVATE_KEY, join(tempDir(), 'billing.signed.zip'));
    expect(zip.hash).toBe(intoDir.hash);
    expect((await verifySourceAt(zip.written, [TEST_PUBLIC_KEY])).hash).toBe(intoDir.hash);
    expect(await verifySourceAt(dir)).toEqual({ key: intoDir.key, hash: intoDir.hash, contentHash: expect.any(String) });
    // Signing the signed zip again (its signature replaced) gives a zip beside it.
    const again = await signSourceAt(zip.written, TEST_PRIVATE_KEY);
    expect(again.written).toMatch(/billing\.signed\.signed\.zip$/);
    expect(again.hash).toBe(intoDir.hash);
    writeFileSync(join(dir, 'lib/rates.js'), 'export const rate = 1000;\n');
    await expect(verifySourceAt(dir)).rejects.toThrow(/changed after it was signed/);
    await expect(signSourceAt(dir, join(tempDir(), 'missing.pem'))).rejects.toThrow(/cannot read key .*missing\.pem: no such file/);
    expect(readFileSync(join(dir, SIGNATURE_FILE), 'utf8')).toContain('"alg": "ed25519"');
  });
});

describe('SignedSourceAuthority', () => {
  const create = (s: ActorSystem, hash: string): Promise<ActorAddress> => s.createActor('billing.js#Biller', { sourceHash: hash });

  it('accepts sources signed with a key it trusts, and rejects tampered, unsigned and foreign-signed ones (in a worker thread)', async () => {
    const s = (system = await ActorSystem.start({ base: 'workers', workers: 2, sources: { packagesFrom: ROOT }, logger: () => undefined }));
    const authority = await s.createActor(SignedSourceAuthority);
    const mine = keys();
    expect(await s.ask(authority, new TrustSourceKeys([mine.publicKey]), 5000)).toBe(1);
    const dir = billingCopy();
    await signSourceAt(dir, mine.privateKey);
    const signed = await s.loadActorSource(dir);
    const biller = await create(s, signed);
    expect(await s.ask(biller, { bill: 4 }, 10_000)).toMatchObject({ total: 8 });
    expect((await s.status()).sources).toEqual([expect.objectContaining({ hash: signed, sourceInfo: `signed by ${publicKeyText(mine.publicKey)}` })]);

    writeFileSync(join(dir, 'lib/rates.js'), 'export const rate = 1000;\n');
    const tampered = await s.loadActorSource(dir);
    await expect(create(s, tampered)).rejects.toThrow(/rejected by the source authority \(the source was changed after it was signed/);
    const unsigned = await s.loadActorSource(`${FIXTURES}other`);
    await expect(create(s, unsigned)).rejects.toThrow(/rejected by the source authority \(the source is not signed/);
    const foreign = billingCopy();
    await signSourceAt(foreign, keys().privateKey);
    await expect(create(s, await s.loadActorSource(foreign))).rejects.toBeInstanceOf(InvalidActorSpecError);
  });

  it('a subclass trusts the keys of its class (in a child process)', async () => {
    const s = (system = await ActorSystem.start({ base: 'processes', sources: { packagesFrom: ROOT }, logger: () => undefined }));
    await s.createActor(`${FIXTURES}trusting-authority.js#TrustingAuthority`);
    const dir = billingCopy();
    await signSourceAt(dir, TEST_PRIVATE_KEY);
    const biller = await create(s, await s.loadActorSource(dir));
    expect(await s.ask(biller, { bill: 5 }, 10_000)).toMatchObject({ total: 10 });
    const other = billingCopy();
    await signSourceAt(other, keys().privateKey);
    await expect(create(s, await s.loadActorSource(other))).rejects.toThrow(/which is not trusted/);
  });
});
