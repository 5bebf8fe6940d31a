/**
 * Which system a command talks to, and the connection to it: --admin or
 * THESPIS_ADMIN (default 127.0.0.1:1900), with the secret read from
 * --secret-file or THESPIS_SECRET_FILE.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ActorSystemClient } from '../index.js';
import type { Args } from './args.js';
import { CliError, UsageError, type OptionSpec } from './command.js';

export const DEFAULT_PORT = 1900;
export const DEFAULT_ADMIN = `127.0.0.1:${DEFAULT_PORT}`;

/** The options every command that talks to a system takes. */
export const TARGET_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  admin: { type: 'string' },
  'secret-file': { type: 'string' },
};

export const TARGET_HELP = `The system: --admin host:port (or THESPIS_ADMIN; default ${DEFAULT_ADMIN}),
its secret: --secret-file F (or THESPIS_SECRET_FILE) when it was started with one.`;

/**
 * "host:port" with a port from 1 to 65535: the rule the network layer
 * applies (net/wire.ts), kept here so that checking a command line does not
 * load the codec.
 */
export function isAdminAddress(text: string): boolean {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  return text.length <= 300 && colon > 0 && Number.isInteger(port) && port > 0 && port < 65536;
}

export function adminOf(args: Args, env: NodeJS.ProcessEnv): string {
  const given = args.string('admin') ?? (env.THESPIS_ADMIN || undefined);
  const admin = given ?? DEFAULT_ADMIN;
  if (!isAdminAddress(admin)) {
    throw new UsageError(`${args.string('admin') !== undefined ? '--admin' : 'THESPIS_ADMIN'} must be host:port, got "${admin}"`);
  }
  return admin;
}

/** The secret file's path from --secret-file or THESPIS_SECRET_FILE, made absolute. */
export function secretFileOf(args: Args, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const file = args.string('secret-file') ?? (env.THESPIS_SECRET_FILE || undefined);
  return file === undefined ? undefined : resolve(cwd, file);
}

/** The secret in `file`: its text without the trailing line break. */
export function readSecret(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new CliError(`cannot read the secret file ${file}: ${why}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length < 8) throw new CliError(`the secret in ${file} is too short: write at least 8 characters in it`);
  return secret;
}

export async function connectTo(args: Args, env: NodeJS.ProcessEnv, cwd: string): Promise<ActorSystemClient> {
  const admin = adminOf(args, env);
  const file = secretFileOf(args, env, cwd);
  const secret = file === undefined ? undefined : readSecret(file);
  const { ActorSystem } = await import('../index.js');
  // Warnings of the client itself (a record it could not read) would break
  // the one-line rule; what matters reaches the command as an error.
  return ActorSystem.connect(admin, { secret, logger: () => undefined });
}
