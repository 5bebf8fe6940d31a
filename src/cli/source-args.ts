/** What the source commands take: a source's path, a source's hash, a trusted key. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { publicKeyText } from '../sources/signing/signing.js';
import { CliError, UsageError } from './command.js';

/** The help text on what a source is, shared by load, sign and verify. */
export const SOURCE_HELP = `A source is a directory of ES modules (.js, .mjs, .json), or its .zip, .tgz or
.tar; a directory and its archive have the same hash.`;

/** The source named on the command line, resolved against the command's directory. */
export function sourcePath(text: string, cwd: string): string {
  if (text === '') throw new UsageError('the source path is empty');
  return resolve(cwd, text);
}

/** A source's hash as typed: 64 hex digits (case does not matter). */
export function sourceHash(text: string): string {
  const hash = text.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new UsageError(`"${text}" is not a source hash: give the 64 hex digits that \`thespis load\` printed (\`thespis sources\` lists them)`);
  }
  return hash;
}

/**
 * The public key in a --trust-key file (PEM), checked to be an Ed25519 public
 * key: a private key there is refused, as the daemon's host needs only the
 * public half.
 */
export function readTrustedKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the key file ${file}: ${code === 'ENOENT' ? 'there is no such file' : (error as Error).message}`);
  }
  if (/PRIVATE KEY/.test(text)) throw new CliError(`${file} holds a private key: give --trust-key the public key (thespis source keygen wrote it as <name>.pub.pem)`);
  try {
    publicKeyText(text);
  } catch (error) {
    throw new CliError(`${file} is not an Ed25519 public key in PEM: ${(error as Error).message}`);
  }
  return text;
}
