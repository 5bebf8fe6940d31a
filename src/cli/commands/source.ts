import { resolve } from 'node:path';
import type { Args } from '../args.js';
import { UsageError, type Command, type CommandContext } from '../command.js';
import { reportFailure } from '../run-command.js';
import { sourcePath, SOURCE_HELP } from '../source-args.js';

type Subcommand = (args: Args, context: CommandContext, target: string) => Promise<number | void>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = { sign, verify, keygen };

export const source: Command = {
  name: 'source',
  summary: 'sign an actor source with an Ed25519 key, check its signature, make a key pair',
  help: `usage: thespis source sign <dir|archive> --key private.pem [--out F]
       thespis source verify <dir|archive> [--key public.pem]...
       thespis source keygen <name>

Signed sources are what a daemon started with \`--trust-key public.pem\` (a
SignedSourceAuthority) accepts. These commands work on files here; they do not
talk to a system.

  sign    signs the source with the Ed25519 private key in --key (PEM). A
          directory gets the signature as its file .thespis-signature (load the
          directory); an archive, or any source with --out F, is written as a
          signed zip (default: <name>.signed.zip beside it), the input left as
          it was. Prints what it wrote, the signer's key and the signed
          source's hash (what \`thespis load\` will print).
  verify  checks the signature: exit 0 and the signer's key when it is valid
          (and, with --key, made with one of these public keys), exit 1 and
          the reason when not (not signed, changed after signing, another key).
  keygen  makes a key pair: <name>.pem (the private key, readable by you only)
          and <name>.pub.pem (the public key, for --trust-key and verify).
          Existing files are never overwritten. (openssl genpkey -algorithm
          ed25519 makes keys that work too.)

A key file is PEM; verify's --key also takes a raw public key (43 base64url
characters, as sign prints it; write --key=KEY, as one may start with "-").

${SOURCE_HELP}`,
  options: { key: { type: 'string', multiple: true }, out: { type: 'string' } },
  positionals: { min: 2, max: 2 },
  inShell: true,
  subcommands: Object.keys(SUBCOMMANDS),

  async run(args, context) {
    const [name, target] = args.positionals as [string, string];
    const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
    if (subcommand === undefined) throw new UsageError(`unknown subcommand "${name}": sign, verify or keygen`);
    if (name !== 'sign' && args.string('out') !== undefined) throw new UsageError(`--out is for sign, not ${name}`);
    if (name === 'keygen' && args.strings('key').length > 0) throw new UsageError('keygen takes no --key');
    try {
      return await subcommand(args, context, target);
    } catch (error) {
      // Said as "thespis source verify: ..." rather than "thespis source: ...".
      return reportFailure(`source ${name}`, error, context.err, context.env);
    }
  },
};

/** A --key as given: a raw public key as it is, else a file path resolved here. */
function keyArgument(text: string, cwd: string): string {
  return /^[A-Za-z0-9_-]{43}$/.test(text) ? text : resolve(cwd, text);
}

async function sign(args: Args, context: CommandContext, target: string): Promise<void> {
  const keys = args.strings('key');
  if (keys.length !== 1) throw new UsageError('sign needs one --key: the Ed25519 private key file (thespis source keygen makes one)');
  const out = args.string('out');
  const { signSourceAt } = await import('../../sources/bundle/source-files.js');
  const signed = await signSourceAt(sourcePath(target, context.cwd), keyArgument(keys[0]!, context.cwd), out === undefined ? undefined : resolve(context.cwd, out));
  context.out.write(`wrote ${signed.written}\n  key   ${signed.key}\n  hash  ${signed.hash}\n`);
}

async function verify(args: Args, context: CommandContext, target: string): Promise<number> {
  const keys = args.strings('key').map((key) => keyArgument(key, context.cwd));
  const { verifySourceAt } = await import('../../sources/bundle/source-files.js');
  const { SourceSignatureError } = await import('../../sources/errors.js');
  try {
    const verified = await verifySourceAt(sourcePath(target, context.cwd), keys.length === 0 ? undefined : keys);
    const against = keys.length === 0 ? ' (no --key given: any key passes; give the key you trust)' : '';
    context.out.write(`valid: signed by key ${verified.key}${against}\n  hash  ${verified.hash}\n`);
    return 0;
  } catch (error) {
    // An invalid signature is the answer, not a failure of the command: said as "invalid: why".
    if (!(error instanceof SourceSignatureError) || /^cannot read key /.test(error.message)) throw error;
    context.err.write(`thespis source verify: invalid: ${error.message}\n`);
    return 1;
  }
}

async function keygen(_args: Args, context: CommandContext, target: string): Promise<void> {
  const base = resolve(context.cwd, target.replace(/(\.pub)?\.pem$/, ''));
  const { writeKeyPair } = await import('../../sources/bundle/source-files.js');
  const { key } = await writeKeyPair(`${base}.pem`, `${base}.pub.pem`);
  context.out.write(
    `wrote ${base}.pem (the private key: keep it to yourself) and ${base}.pub.pem (the public key: thespis start --trust-key ${base}.pub.pem)\n  key  ${key}\n`,
  );
}
