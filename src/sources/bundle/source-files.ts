/**
 * `thespis source sign|verify|keygen`: sign a source directory or archive
 * with an Ed25519 private key, check one's signature, make a key pair. The
 * command modules of the CLI call these; they print and exit.
 *
 * Signing a directory writes `.thespis-signature` into it; signing an
 * archive (or a directory with `out`) writes a signed zip (yazl), leaving
 * the input as it was.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import yazl from 'yazl';
import { readSource } from './archives.js';
import { encodeCanonical, hashOf, type SourceFiles } from './canonical.js';
import { SourceSignatureError } from '../errors.js';
import { publicKeyText, SIGNATURE_FILE, signFiles, verifyFiles } from '../signing/signing.js';

export interface SignedAt {
  /** The file written: the signature in a directory, or the signed zip. */
  written: string;
  /** The signer's public key (base64url). */
  key: string;
  /** The hash of the signed source: what loadActorSource resolves to for it. */
  hash: string;
}

/** Reads a key file (PEM) or takes the text itself. */
async function keyText(key: string): Promise<string> {
  if (key.includes('-----BEGIN') || /^[A-Za-z0-9_-]{43}$/.test(key)) return key;
  try {
    return await readFile(key, 'utf8');
  } catch (error) {
    throw new SourceSignatureError(`cannot read key ${key}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export async function signSourceAt(input: string, privateKey: string, out?: string): Promise<SignedAt> {
  const source = await readSource(input);
  const signed = signFiles(source.files, await keyText(privateKey));
  const { key } = verifyFiles(signed);
  const hash = hashOf(encodeCanonical(signed));
  const path = resolve(input);
  const directory = (await stat(path)).isDirectory();
  if (out === undefined && directory) {
    const written = join(path, SIGNATURE_FILE);
    await writeAtomically(written, signed.get(SIGNATURE_FILE)!);
    return { written, key, hash };
  }
  const written = resolve(out ?? join(dirname(path), `${basename(path).replace(/(\.tar\.gz|\.tgz|\.tar|\.zip)$/, '')}.signed.zip`));
  await writeAtomically(written, await zipOf(signed));
  return { written, key, hash };
}

/** Checks a source's signature (against `trusted` keys when given); resolves to the signer's key and the source's hash. */
export async function verifySourceAt(input: string | Uint8Array, trusted?: readonly string[]): Promise<{ key: string; hash: string; contentHash: string }> {
  const source = await readSource(input);
  const keys = trusted === undefined ? undefined : await Promise.all(trusted.map(keyText));
  const { key, contentHash } = verifyFiles(source.files, keys);
  return { key, hash: source.hash, contentHash };
}

/**
 * A new Ed25519 key pair as PEM files: the private key at `privatePath`
 * (readable by its owner only) and the public key at `publicPath`. Neither
 * file may exist already: a signing key is not replaced by accident.
 */
export async function writeKeyPair(privatePath: string, publicPath: string): Promise<{ key: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const exclusive = async (path: string, text: string, mode: number): Promise<void> => {
    try {
      await writeFile(path, text, { flag: 'wx', mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SourceSignatureError(`cannot write ${path}: ${code === 'EEXIST' ? 'it exists already (a key is never overwritten)' : (error as Error).message}`);
    }
  };
  await exclusive(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  // Both files or neither: a private key whose public half was not written is removed.
  await exclusive(publicPath, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644).catch(async (error: unknown) => {
    await rm(privatePath, { force: true });
    throw error;
  });
  return { key: publicKeyText(publicKey) };
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** A zip of the files (deflated, fixed times, so the same files give the same zip). */
export function zipOf(files: SourceFiles): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const epoch = new Date(Date.UTC(2000, 0, 1));
  for (const [path, content] of files) zip.addBuffer(Buffer.from(content.buffer, content.byteOffset, content.byteLength), path, { mtime: epoch, mode: 0o100644 });
  zip.end();
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolvePromise(Buffer.concat(chunks)));
  });
}
