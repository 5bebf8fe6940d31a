// `thespis load|unload|sources|source sign|verify|keygen` (and `create
// --source`, `start --trust-key`) end to end: the real binary as a child
// process, real daemons on ports the OS chose, in a HOME of the test's own;
// every daemon killed afterwards.
import { appendFileSync, cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create as createTar } from 'tar';
import { afterEach, describe, expect, it } from 'vitest';
import { completeCommand } from '../dist/cli/shell/complete.js';
import { COMMANDS } from '../dist/cli/commands/index.js';
import { CliSandbox, gone, portClosed, type CliResult } from './cli-helpers.js';

const BILLING = fileURLToPath(new URL('../examples/plugins/billing', import.meta.url));
const HASH = /^[0-9a-f]{64}$/;

let sandbox: CliSandbox;
afterEach(async () => {
  await sandbox.cleanup();
});

/** A sandbox with a copy of the billing source in it (`billing/`) and a key pair (`signer.pem`, `signer.pub.pem`). */
async function fresh(): Promise<CliSandbox> {
  sandbox = new CliSandbox();
  cpSync(BILLING, join(sandbox.home, 'billing'), { recursive: true });
  ok(await sandbox.run(['source', 'keygen', 'signer']));
  return sandbox;
}

function ok(result: CliResult): CliResult {
  expect(result.status, `exit code; stderr: ${result.stderr}`).toBe(0);
  return result;
}

/** Exit code 1 or 2 and one line on stderr (no stack) that matches `pattern`. */
function fails(result: CliResult, code: 1 | 2, pattern: RegExp): void {
  expect(result.status, `exit code; stdout: ${result.stdout}; stderr: ${result.stderr}`).toBe(code);
  expect(result.stderr.endsWith('\n') && result.stderr.indexOf('\n') === result.stderr.length - 1, `one line: ${result.stderr}`).toBe(true);
  expect(result.stderr.trimEnd()).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** The hash `source sign` printed. */
function signedHash(result: CliResult): string {
  return /^ {2}hash {2}([0-9a-f]{64})$/m.exec(result.stdout)![1]!;
}

describe('thespis source commands', () => {
  it('load → sources (table, JSON) → create --source → ask → unload → sources → stop, against a daemon that trusts a key', async () => {
    const cli = await fresh();
    const signed = signedHash(ok(await cli.run(['source', 'sign', 'billing', '--key', 'signer.pem'])));
    const daemon = await cli.start(['--trust-key', 'signer.pub.pem']);
    const env = { THESPIS_ADMIN: daemon.admin };

    const loaded = ok(await cli.run(['load', 'billing'], { env }));
    const hash = loaded.stdout.trim();
    expect(hash).toBe(signed);
    expect(loaded.stderr).toMatch(new RegExp(`^thespis load: source ${hash.slice(0, 12)}… \\(3 files\\) is (loaded \\(signed by [\\w-]{43}\\)|being validated)`));

    const table = ok(await cli.run(['sources'], { env })).stdout.split('\n');
    expect(table[0]).toMatch(/^ {2}HASH\s+STATE\s+FILES\s+FROM\s+SINCE\s+AUTHORITY SAID$/);
    // Validation may still be going on when `load` returns; a create waits for it, the table shows it.
    expect(table[1]).toMatch(new RegExp(`^ {2}${hash} {2}(loaded|pending)\\s+3 {2}${join(cli.home, 'billing')} {2}\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\b`));
    expect(table[1]!.indexOf(' 3 ') + 1).toBe(table[0]!.indexOf('FILES') + 'FILES'.length - 1); // numbers right-aligned under their heading
    expect(table[3]).toMatch(/^ {2}source authority {2}\S+:main\.\d+@\S+$/);

    const biller = ok(await cli.run(['create', 'billing.js#Biller', '--source', hash, '--name', 'biller'], { env })).stdout.trim();
    expect(biller).toBe('name:biller');
    const reply = JSON.parse(ok(await cli.run(['ask', 'name:biller', '{"amount":40}'], { env })).stdout) as unknown;
    expect(reply).toEqual({ amount: 40, tax: 10, from: `thespis-mod://src/${hash}/billing.js` });

    // Loaded by now (the create waited for it): the JSON is the status object's list.
    const json = JSON.parse(ok(await cli.run(['sources', '--json'], { env })).stdout) as unknown[];
    expect(json).toEqual([{ hash, state: 'loaded', files: 3, bytes: expect.any(Number), info: join(cli.home, 'billing'), sourceInfo: expect.stringMatching(/^signed by /), since: expect.any(Number) }]);
    const status = ok(await cli.run(['status'], { env })).stdout;
    expect(status).toMatch(new RegExp(`\\nsources\\n {2}HASH[^\\n]+\\n {2}${hash} {2}loaded `));
    expect(status).toMatch(/source authority\s+\S+:main\.\d+@/);

    const unloaded = ok(await cli.run(['unload', hash], { env }));
    expect(unloaded.stdout).toBe(`unloaded ${hash} (actors running from it keep running)\n`);
    fails(await cli.run(['unload', hash.toUpperCase()], { env }), 1, new RegExp(`^thespis unload: no source ${hash} is loaded in the system`));
    expect(ok(await cli.run(['sources'], { env })).stdout).toMatch(/^ {2}\(no sources loaded\)\n/);
    expect(JSON.parse(ok(await cli.run(['sources', '--json'], { env })).stdout)).toEqual([]);
    // The running actor keeps working; new creates from the source fail, saying why.
    expect(JSON.parse(ok(await cli.run(['ask', 'name:biller', '{"amount":4}'], { env })).stdout)).toMatchObject({ tax: 1 });
    fails(await cli.run(['create', 'billing.js#Biller', '--source', hash], { env }), 1, new RegExp(`^thespis create: InvalidActorSpecError: source ${hash} was unloaded$`));

    ok(await cli.run(['stop'], { env }));
    expect(gone(daemon.pid)).toBe(true);
    expect(await portClosed(daemon.admin)).toBe(true);
  });

  it('a daemon without a source authority ignores a load (exit 1); one that trusts a key rejects unsigned, tampered and foreign-signed sources', async () => {
    const cli = await fresh();
    const bare = await cli.start(['--base', 'inline']);
    const ignored = await cli.run(['load', 'billing'], { env: { THESPIS_ADMIN: bare.admin } });
    fails(ignored, 1, /^thespis load: the system has no source authority, so it ignored source [0-9a-f]{64}: start the daemon with --trust-key F/);
    expect(ignored.stdout).toBe('');
    expect(ok(await cli.run(['sources'], { env: { THESPIS_ADMIN: bare.admin } })).stdout).toMatch(/source authority {2}none/);

    const daemon = await cli.start(['--base', 'inline', '--trust-key', 'signer.pub.pem']);
    const env = { THESPIS_ADMIN: daemon.admin };
    ok(await cli.run(['source', 'keygen', 'stranger']));
    cpSync(BILLING, join(cli.home, 'foreign'), { recursive: true });
    ok(await cli.run(['source', 'sign', 'foreign', '--key', 'stranger.pem']));
    cpSync(BILLING, join(cli.home, 'tampered'), { recursive: true });
    ok(await cli.run(['source', 'sign', 'tampered', '--key', 'signer.pem']));
    appendFileSync(join(cli.home, 'tampered', 'rates.js'), 'export const extra = 1;\n');

    for (const [dir, why] of [
      ['billing', /the source is not signed/],
      ['tampered', /the source was changed after it was signed/],
      ['foreign', /which is not trusted/],
    ] as const) {
      const load = await cli.run(['load', dir], { env });
      // The authority may answer before or after `load` looks: either way the hash is said, and a create from it says why.
      const hash = HASH.exec(load.stdout.trim())?.[0] ?? /rejected source ([0-9a-f]{64}) at once/.exec(load.stderr)?.[1];
      expect(hash, `${dir}: ${load.stdout} ${load.stderr}`).toMatch(HASH);
      if (load.status !== 0) fails(load, 1, /^thespis load: the source authority rejected source [0-9a-f]{64} at once: the system's log says why$/);
      const create = await cli.run(['create', 'billing.js#Biller', '--source', hash!], { env });
      fails(create, 1, new RegExp(`^thespis create: InvalidActorSpecError: source ${hash} was rejected by the source authority \\(.*${why.source}`));
    }
    expect(JSON.parse(ok(await cli.run(['sources', '--json'], { env })).stdout)).toEqual([]);
  });

  it('source keygen / sign / verify: a good key, a wrong key, a tampered file, an unsigned source, an archive', async () => {
    const cli = await fresh();
    expect(statSync(join(cli.home, 'signer.pem')).mode & 0o777).toBe(0o600);
    fails(await cli.run(['source', 'keygen', 'signer']), 1, /^thespis source keygen: .*signer\.pem: it exists already/);
    ok(await cli.run(['source', 'keygen', 'other']));

    fails(await cli.run(['source', 'verify', 'billing', '--key', 'signer.pub.pem']), 1, /^thespis source verify: invalid: the source is not signed/);
    const signed = ok(await cli.run(['source', 'sign', 'billing', '--key', 'signer.pem']));
    expect(signed.stdout).toMatch(new RegExp(`^wrote ${join(cli.home, 'billing', '.thespis-signature')}\\n {2}key {3}[\\w-]{43}\\n {2}hash {2}[0-9a-f]{64}\\n$`));
    const key = /key {3}(\S+)/.exec(signed.stdout)![1]!;
    const good = ok(await cli.run(['source', 'verify', 'billing', '--key', 'signer.pub.pem']));
    expect(good.stdout).toBe(`valid: signed by key ${key}\n  hash  ${signedHash(signed)}\n`);
    // The raw key that sign printed is a key verify takes too; without --key any signer passes, and it says so.
    ok(await cli.run(['source', 'verify', 'billing', `--key=${key}`])); // one may start with "-"
    expect(ok(await cli.run(['source', 'verify', 'billing'])).stdout).toMatch(/no --key given: any key passes/);
    fails(await cli.run(['source', 'verify', 'billing', '--key', 'other.pub.pem']), 1, new RegExp(`^thespis source verify: invalid: the source is signed with key ${key}, which is not trusted$`));

    writeFileSync(join(cli.home, 'billing', 'rates.js'), 'export const taxRate = 0.5;\n');
    fails(await cli.run(['source', 'verify', 'billing', '--key', 'signer.pub.pem']), 1, /^thespis source verify: invalid: the source was changed after it was signed/);
    const forged = JSON.parse(readFileSync(join(cli.home, 'billing', '.thespis-signature'), 'utf8')) as Record<string, string>;
    // The first signature, made to claim the changed files' hash: the signature no longer matches.
    ok(await cli.run(['source', 'sign', 'billing', '--key', 'other.pem']));
    const changedHash = (JSON.parse(readFileSync(join(cli.home, 'billing', '.thespis-signature'), 'utf8')) as Record<string, string>).contentHash;
    writeFileSync(join(cli.home, 'billing', '.thespis-signature'), JSON.stringify({ ...forged, contentHash: changedHash }));
    fails(await cli.run(['source', 'verify', 'billing', '--key', 'signer.pub.pem']), 1, /^thespis source verify: invalid: the signature does not match the source and key$/);

    // An archive is left as it is; the signed zip beside it verifies, and holds the same files.
    await createTar({ gzip: true, file: join(cli.home, 'plain.tgz'), cwd: BILLING }, ['billing.js', 'rates.js']);
    const archive = ok(await cli.run(['source', 'sign', 'plain.tgz', '--key', 'signer.pem']));
    expect(archive.stdout).toMatch(new RegExp(`^wrote ${join(cli.home, 'plain.signed.zip')}\\n`));
    fails(await cli.run(['source', 'verify', 'plain.tgz', '--key', 'signer.pub.pem']), 1, /invalid: the source is not signed/);
    expect(ok(await cli.run(['source', 'verify', 'plain.signed.zip', '--key', 'signer.pub.pem'])).stdout).toContain(`hash  ${signedHash(archive)}`);
    const out = ok(await cli.run(['source', 'sign', 'plain.tgz', '--key', 'signer.pem', '--out', 'elsewhere.zip']));
    expect(out.stdout).toMatch(new RegExp(`^wrote ${join(cli.home, 'elsewhere.zip')}\\n`));
    expect(signedHash(out)).toBe(signedHash(archive));

    fails(await cli.run(['source', 'sign', 'plain.tgz', '--key', 'signer.pub.pem']), 1, /^thespis source sign: SourceSignatureError: this is a public key: signing needs the Ed25519 private key$/);
    fails(await cli.run(['source', 'sign', 'plain.tgz']), 2, /^thespis source sign: sign needs one --key/);
    fails(await cli.run(['source', 'verify', 'plain.signed.zip', '--key', 'missing.pem']), 1, /^thespis source verify: SourceSignatureError: cannot read key .*missing\.pem: no such file$/);
    fails(await cli.run(['source', 'seal', 'billing']), 2, /^thespis source: unknown subcommand "seal": sign, verify or keygen; see `thespis source --help`$/);
    fails(await cli.run(['source', 'verify', 'billing', '--out', 'x']), 2, /--out is for sign/);
  });

  it('bad input: missing or unreadable paths, corrupt archives, bad hashes, bad keys, with exit codes 1 and 2', async () => {
    const cli = await fresh();
    // None of these needs a system: nothing listens at this address.
    const env = { THESPIS_ADMIN: '127.0.0.1:1' };
    fails(await cli.run(['load'], { env }), 2, /^thespis load: missing an argument; see `thespis load --help`$/);
    fails(await cli.run(['load', 'a', 'b'], { env }), 2, /^thespis load: unexpected argument "b"/);
    fails(await cli.run(['load', 'nowhere'], { env }), 1, new RegExp(`^thespis load: InvalidSourceError: cannot read source ${join(cli.home, 'nowhere')}: no such file or directory$`));
    writeFileSync(join(cli.home, 'broken.zip'), Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(200, 7)]));
    fails(await cli.run(['load', 'broken.zip'], { env }), 1, /^thespis load: InvalidSourceError: .*broken\.zip: a corrupt zip/);
    writeFileSync(join(cli.home, 'broken.tgz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    fails(await cli.run(['load', 'broken.tgz'], { env }), 1, /^thespis load: InvalidSourceError: .*broken\.tgz/);
    writeFileSync(join(cli.home, 'notes.txt'), 'not a source');
    fails(await cli.run(['load', 'notes.txt'], { env }), 1, /^thespis load: InvalidSourceError: .*notes\.txt: not a source/);
    fails(await cli.run(['source', 'verify', 'broken.zip']), 1, /^thespis source verify: InvalidSourceError: .*a corrupt zip/);

    fails(await cli.run(['unload'], { env }), 2, /^thespis unload: missing an argument/);
    fails(await cli.run(['unload', 'abc123'], { env }), 2, /^thespis unload: "abc123" is not a source hash: give the 64 hex digits that `thespis load` printed/);
    fails(await cli.run(['create', 'billing.js#Biller', '--source', 'f'.repeat(63)], { env }), 2, /^thespis create: "f{63}" is not a source hash/);
    fails(await cli.run(['sources', 'extra'], { env }), 2, /^thespis sources: unexpected argument "extra"/);
    // With a good hash the command goes as far as the system, and says it is not there.
    fails(await cli.run(['unload', 'ab'.repeat(32)], { env }), 1, /^thespis unload: cannot connect to the system at 127\.0\.0\.1:1: .*is it running\?/);
    fails(await cli.run(['sources'], { env }), 1, /^thespis sources: cannot connect to the system at 127\.0\.0\.1:1/);

    fails(await cli.run(['start', '--port', '0', '--trust-key', 'signer.pem']), 1, /^thespis start: .*signer\.pem holds a private key: give --trust-key the public key/);
    fails(await cli.run(['start', '--port', '0', '--trust-key', 'none.pem']), 1, /^thespis start: cannot read the key file .*none\.pem: there is no such file$/);
    fails(await cli.run(['start', '--port', '0', '--trust-key', 'notes.txt']), 1, /^thespis start: .*notes\.txt is not an Ed25519 public key in PEM/);

    // Every command says how it is used.
    for (const name of ['load', 'unload', 'sources', 'source']) {
      const help = ok(await cli.run([name, '--help']));
      expect(help.stdout).toMatch(new RegExp(`^usage: thespis ${name} `));
      expect(help.stdout).not.toMatch(/not available/);
    }
    expect(ok(await cli.run(['load', '--help'])).stdout).toMatch(/Reads the source here, on this machine, and sends its bytes/);
  });

  it('the shell runs the source commands, and completes source\'s subcommands', async () => {
    const cli = await fresh();
    const hash = signedHash(ok(await cli.run(['source', 'sign', 'billing', '--key', 'signer.pem'])));
    const daemon = await cli.start(['--base', 'inline', '--trust-key', 'signer.pub.pem']);
    const lines = ['source verify billing --key signer.pub.pem', 'load billing', `create billing.js#Biller --source ${hash} --name b`, `ask name:b '{"amount":8}'`, 'sources', `unload ${hash}`, 'sources --json', 'unload nothex'];
    const result = await cli.run(['shell'], { env: { THESPIS_ADMIN: daemon.admin }, input: lines.join('\n') + '\n' });
    expect(result.status).toBe(0);
    const out = result.stdout.replace(/thespis> /g, '');
    const expected = ['valid: signed by key', `\n${hash}\n`, 'name:b', '"tax":2', `  ${hash}  loaded`, `unloaded ${hash}`, '[]', 'thespis unload: "nothex" is not a source hash'];
    let at = 0;
    for (const text of expected) {
      const found = out.indexOf(text, at);
      expect(found, `"${text}" after position ${at} in:\n${out}`).toBeGreaterThanOrEqual(at);
      at = found + text.length;
    }
    expect(gone(daemon.pid)).toBe(false);

    expect(completeCommand('sou', COMMANDS)).toEqual([['source', 'sources'], 'sou']);
    expect(completeCommand('source ', COMMANDS)).toEqual([['keygen', 'sign', 'verify'], '']);
    expect(completeCommand('source v', COMMANDS)).toEqual([['verify'], 'v']);
    expect(completeCommand('source verify --k', COMMANDS)).toEqual([['--key'], '--k']);
    expect(completeCommand('source verify b', COMMANDS)).toEqual([[], 'b']);
    expect(completeCommand('load --s', COMMANDS)).toEqual([['--secret-file'], '--s']);
  });
});
