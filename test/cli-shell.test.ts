// `thespis shell` end to end: driven through its stdin (lines of commands and
// JavaScript), and through a pseudo-terminal (tab completion, history), against
// a real daemon.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTORS, CLI, CliSandbox, gone, portClosed, until } from './cli-helpers.js';

let sandbox: CliSandbox;
afterEach(async () => {
  await sandbox.cleanup();
});

/** `script` (util-linux, Debian package bsdutils) runs a command on a pseudo-terminal. */
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) console.log('notice: the shell completion and history tests need `script` (Debian package bsdutils): skipped');

describe('thespis shell', () => {
  it('runs commands and JavaScript from its stdin in order, one-line errors, and stop ends it with the system', async () => {
    const cli = (sandbox = new CliSandbox());
    const daemon = await cli.start(['--base', 'inline']);
    const lines = [
      `stop --help`, // help only: the shell goes on
      `create ${ACTORS}#Counter --name counter`,
      `tell name:counter '{"add":5}'`,
      `await system.tell(ActorAddress.parse('name:counter'), { add: 2 })`,
      `ask name:counter '"total"'`,
      `(await system.status()).actors + 100`,
      `status --bogus`,
      `ask name:counter '"unclosed`,
      `status --admin 127.0.0.1:1`,
      `help`,
      `stop`,
      `1 + 1`, // not reached: stop ends the shell
    ];
    const result = await cli.run(['shell'], { env: { THESPIS_ADMIN: daemon.admin }, input: lines.join('\n') + '\n' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const out = result.stdout.replace(/thespis> /g, '');
    expect(out).toMatch(new RegExp(`^connected to system \\w+ at ${daemon.admin.replace(/\./g, '\\.')}`));
    const expected = [
      'usage: thespis stop',
      'name:counter',
      '{"total":7,"big":"1180591620717411303424","tags":["a","b"]}',
      '101',
      'thespis status: unknown option --bogus',
      `thespis ask: a ' is not closed`,
      'thespis status: this shell talks to',
      '  create   create an actor',
      `stopped system`,
    ];
    let at = 0;
    for (const text of expected) {
      const found = out.indexOf(text, at);
      expect(found, `"${text}" after position ${at} in:\n${out}`).toBeGreaterThanOrEqual(at);
      at = found + text.length;
    }
    expect(out).not.toMatch(/^2$/m);
    expect(gone(daemon.pid)).toBe(true);
    expect(await portClosed(daemon.admin)).toBe(true);
  });

  it('ends at the end of its input and leaves the system running', async () => {
    const cli = (sandbox = new CliSandbox());
    const daemon = await cli.start(['--base', 'inline']);
    const result = await cli.run(['shell', '--admin', daemon.admin], { input: 'status\n' });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/convention \(1 system\)/);
    expect(gone(daemon.pid)).toBe(false);
    const refused = await cli.run(['shell', '--admin', '127.0.0.1:1']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^thespis shell: cannot connect/);
  });

  it.runIf(hasScript)('on a terminal: tab completes command names and options, and history is kept in the home directory', async () => {
    const cli = (sandbox = new CliSandbox());
    const daemon = await cli.start(['--base', 'inline']);
    const child = spawn('script', ['-qec', `${process.execPath} ${CLI} shell`, '/dev/null'], {
      env: { ...cli.env, THESPIS_ADMIN: daemon.admin, TERM: 'xterm' },
      cwd: cli.home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const typed = async (keys: string, expect: RegExp): Promise<void> => {
      const from = screen.length;
      child.stdin.write(keys);
      await until(`${JSON.stringify(keys)} to show ${expect}`, () => expect.test(screen.slice(from)));
    };
    try {
      await until('the prompt', () => screen.includes('thespis> '));
      // Each key waits for the screen to change: a completion runs between keys.
      for (const key of ['sto', '\t', ' --h', '\t']) await typed(key, /./);
      // Only "stop --help" (both words completed) prints this; "sto --h" is a syntax error.
      await typed('\r', /usage: thespis stop/);
      for (const key of ['sta', '\t', ' --j', '\t']) await typed(key, /./);
      await typed('\r', /"systemId"/);
      child.stdin.write('.exit\r');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const history = join(cli.home, '.thespis_history');
    expect(existsSync(history)).toBe(true);
    expect(readFileSync(history, 'utf8').split('\n')).toEqual(expect.arrayContaining(['stop --help', 'status --json']));
    expect(gone(daemon.pid)).toBe(false);
  });
});
