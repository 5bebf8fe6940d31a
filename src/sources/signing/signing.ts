/**
 * Signed sources: a source carries its signature as one file at its root,
 * `.thespis-signature` (JSON: the signer's Ed25519 public key, the SHA-256
 * of the source's canonical bytes without that file, and the signature of
 * that hash). Signing adds the file; verifying recomputes the hash from the
 * other files, so a source changed after signing (a file added, removed or
 * edited) no longer verifies. node:crypto does the Ed25519 work.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { encodeCanonical, hashOf, type SourceFiles } from '../bundle/canonical.js';
import { SourceSignatureError } from '../errors.js';

export const SIGNATURE_FILE = '.thespis-signature';
const PURPOSE = 'thespis-source-signature/1\n';

export interface SourceSignature {
  alg: 'ed25519';
  /** The signer's public key: the raw 32 bytes, base64url (a JWK's `x`). */
  key: string;
  /** SHA-256 (hex) of the canonical bytes of every file but the signature. */
  contentHash: string;
  /** Ed25519 signature (base64) of "thespis-source-signature/1\n" + contentHash. */
  signature: string;
}

/** A key as text: a PEM (public or private), or a raw public key in base64url. */
export type KeyText = string | KeyObject;

/** The public key text (base64url raw) of a public or private key. */
export function publicKeyText(key: KeyText): string {
  const jwk = publicKeyOf(key).export({ format: 'jwk' }) as { crv?: string; x?: string };
  if (jwk.crv !== 'Ed25519' || jwk.x === undefined) throw new SourceSignatureError('not an Ed25519 key');
  return jwk.x;
}

function publicKeyOf(key: KeyText): KeyObject {
  try {
    if (typeof key !== 'string') return key.type === 'private' ? createPublicKey(key) : key;
    const text = key.trim();
    if (text.includes('-----BEGIN')) return createPublicKey(text);
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text }, format: 'jwk' });
  } catch (error) {
    throw new SourceSignatureError(`not a usable Ed25519 public key: ${(error as Error).message}`);
  }
}

/** The hash a signature covers: of every file but the signature. */
export function contentHashOf(files: SourceFiles): string {
  const rest = new Map([...files].filter(([path]) => path !== SIGNATURE_FILE));
  return hashOf(encodeCanonical(rest));
}

/** The files with a signature by `privateKey` (PEM or KeyObject) put in (any earlier signature replaced). */
export function signFiles(files: SourceFiles, privateKey: KeyText): Map<string, Uint8Array> {
  if (typeof privateKey === 'string' && /-----BEGIN PUBLIC KEY/.test(privateKey)) throw new SourceSignatureError('this is a public key: signing needs the Ed25519 private key');
  let key: KeyObject;
  try {
    key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  } catch (error) {
    throw new SourceSignatureError(`not a usable private key: ${(error as Error).message}`);
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new SourceSignatureError('signing needs an Ed25519 private key (openssl genpkey -algorithm ed25519)');
  const contentHash = contentHashOf(files);
  const signature: SourceSignature = {
    alg: 'ed25519',
    key: publicKeyText(key),
    contentHash,
    signature: sign(null, Buffer.from(PURPOSE + contentHash), key).toString('base64'),
  };
  const signed = new Map(files);
  signed.set(SIGNATURE_FILE, new TextEncoder().encode(`${JSON.stringify(signature, null, 2)}\n`));
  return signed;
}

/**
 * Checks the source's signature and, when `trusted` is given, that its key
 * is one of them; resolves to the signer's key and the content hash, or
 * throws SourceSignatureError saying what is wrong.
 */
export function verifyFiles(files: SourceFiles, trusted?: readonly KeyText[]): { key: string; contentHash: string } {
  const raw = files.get(SIGNATURE_FILE);
  if (raw === undefined) throw new SourceSignatureError(`the source is not signed (it has no ${SIGNATURE_FILE})`);
  let parsed: Partial<SourceSignature>;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Partial<SourceSignature>;
  } catch {
    throw new SourceSignatureError(`${SIGNATURE_FILE} is not JSON`);
  }
  if (parsed?.alg !== 'ed25519' || typeof parsed.key !== 'string' || typeof parsed.contentHash !== 'string' || typeof parsed.signature !== 'string') {
    throw new SourceSignatureError(`${SIGNATURE_FILE} is not an Ed25519 source signature`);
  }
  const contentHash = contentHashOf(files);
  if (contentHash !== parsed.contentHash) throw new SourceSignatureError('the source was changed after it was signed (its content hash differs from the signed one)');
  const key = publicKeyOf(parsed.key);
  if (!verify(null, Buffer.from(PURPOSE + contentHash), key, Buffer.from(parsed.signature, 'base64'))) {
    throw new SourceSignatureError('the signature does not match the source and key');
  }
  const keyText = publicKeyText(key);
  if (trusted !== undefined && !trusted.some((t) => publicKeyText(t) === keyText)) {
    throw new SourceSignatureError(`the source is signed with key ${keyText}, which is not trusted`);
  }
  return { key: keyText, contentHash };
}
