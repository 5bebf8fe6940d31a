// ssh, sudo and su: a real OpenSSH server on a loopback port (its own host
// and user keys), sudo to another user, su and sudo with passwords to users
// this setup creates. Each part runs when its package is installed and the
// tests run as root; otherwise it is skipped with a notice naming the package.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, RemoteBootError, type RemoteHost } from '../dist/index.js';
import { eventually } from './conformance/bases.js';
import { sshAvailable, startSshd } from './fixtures/remote/sshd.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/remote/', import.meta.url));
const TASKS = `${FIXTURES}tasks.js`;

const sshMissing = sshAvailable();
const sudoMissing = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/bin/sudo') ? 'needs the Debian package sudo' : !existsSync('/usr/bin/su') ? 'needs su (Debian package util-linux)'
  : !existsSync('/usr/bin/script') ? 'needs script (Debian package bsdutils)' : null;
if (sshMissing !== null) console.warn(`remote-methods: ssh tests skipped: ${sshMissing}`);
if (sudoMissing !== null) console.warn(`remote-methods: sudo and su tests skipped: ${sudoMissing}`);

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.shutdown();
  system = undefined;
});

async function start(): Promise<ActorSystem> {
  system = await ActorSystem.start({ base: 'inline', logLevel: 'error' });
  return system;
}

interface Who {
  pid: number;
  ppid: number;
  uid: number;
}

describe.runIf(sshMissing === null)('ssh to a loopback sshd', () => {
  let sshd: Awaited<ReturnType<typeof startSshd>>;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(() => sshd?.stop());

  it('boots over ssh (host key enforced), calls, runs an actor, moves a file', async () => {
    const s = await start();
    const host = await s.connectHost({ ...sshd.options(), serve: [FIXTURES] });
    const who = (await host.call(`${TASKS}#whoami`)) as Who;
    expect(who.uid).toBe(0);
    expect(who.pid).not.toBe(host.status().pid); // the local pid is ssh's
    const { Echo } = await import('./fixtures/remote/tasks.js');
    const echo = await s.createActor(Echo, { host });
    expect(await s.ask(echo, 'pid', 5000)).toBe(who.pid);
    const dir = mkdtempSync(join(tmpdir(), 'thespis-ssh-files-'));
    writeFileSync(join(dir, 'a'), 'over ssh');
    await host.putFile(join(dir, 'a'), join(dir, 'b'), { mode: 0o600 });
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('over ssh');
    rmSync(dir, { recursive: true });
    const pid = who.pid;
    await host.close();
    expect(processAlive(pid)).toBe(false);
  });

  it('refuses an unknown host key when checking is enforced; accepts it with ignore', async () => {
    const s = await start();
    const empty = join(sshd.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const options = { ...sshd.options(), sshArgs: ['-o', `UserKnownHostsFile=${empty}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes'] };
    const error = await s.connectHost({ ...options, hostKeyChecking: 'enforce' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/Host key verification failed/);
    const host = await s.connectHost({ ...options, hostKeyChecking: 'ignore' });
    expect(await host.call('node:os#hostname')).toBeTypeOf('string');
  });

  it('a wrong key is refused with what ssh said', async () => {
    const s = await start();
    const other = join(sshd.dir, 'other_key');
    if (!existsSync(other)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const error = await s.connectHost({ ...sshd.options(), identityFile: other }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/Permission denied/);
  });

  it('a local host reached through an ssh host', async () => {
    const s = await start();
    const box = await s.connectHost({ ...sshd.options(), serve: [FIXTURES] });
    const inner = await s.connectHost({ method: 'local', via: box, serve: [FIXTURES] });
    const boxWho = (await box.call(`${TASKS}#whoami`)) as Who;
    const innerWho = (await inner.call(`${TASKS}#whoami`)) as Who;
    expect(innerWho.ppid).toBe(boxWho.pid);
  });
});

const USER_A = 'thespis-ta';
const USER_B = 'thespis-tb';
/** A user that sudo runs commands as only from a terminal (requiretty). */
const USER_C = 'thespis-tc';
const PASSWORD_A = 'a-Pass-1234';
const PASSWORD_B = 'b-Pass-5678';
const SUDOERS = '/etc/sudoers.d/thespis-test';

function ensureUser(name: string, password: string): number {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['-M', '-s', '/bin/sh', name]);
  }
  execFileSync('chpasswd', { input: `${name}:${password}\n` });
  return Number(execFileSync('id', ['-u', name]).toString().trim());
}

describe.runIf(sudoMissing === null)('sudo and su', () => {
  let uidA = -1;
  let uidB = -1;
  let uidC = -1;
  beforeAll(() => {
    uidA = ensureUser(USER_A, PASSWORD_A);
    uidB = ensureUser(USER_B, PASSWORD_B);
    uidC = ensureUser(USER_C, PASSWORD_B);
    // USER_A may become USER_B or USER_C with sudo, giving USER_A's password; USER_C only from a terminal.
    writeFileSync(SUDOERS, `Defaults>${USER_C} requiretty\n${USER_A} ALL=(${USER_B},${USER_C}) ALL\n`, { mode: 0o440 });
  });
  afterAll(async () => {
    rmSync(SUDOERS, { force: true });
    // Every host has been closed and reaped by now; what ran as these users finishes exiting (nothing may stay).
    const left = (): string[] => ownedBy([uidA, uidB, uidC]);
    await eventually(() => (left().length === 0 ? true : undefined), 10_000).catch(() => {
      throw new Error(`processes of the test users outlived their hosts: ${left().join('; ')}`);
    });
    for (const user of [USER_A, USER_B, USER_C]) execFileSync('userdel', [user], { stdio: 'ignore' });
  });

  /** A file of random bytes (every byte a terminal would act on among them) in a directory anyone may write. */
  function randomFile(): { dir: string; path: string; bytes: Buffer } {
    const dir = mkdtempSync(join(tmpdir(), 'thespis-pty-'));
    chmodSync(dir, 0o777);
    const bytes = Buffer.concat([Buffer.from([0, 3, 4, 10, 13, 17, 19, 21, 26, 28, 127, 255]), randomBytes(256 * 1024)]);
    writeFileSync(join(dir, 'sent'), bytes);
    return { dir, path: join(dir, 'sent'), bytes };
  }

  async function asA(s: ActorSystem): Promise<RemoteHost> {
    return s.connectHost({ method: 'sudo', user: USER_A, serve: [FIXTURES] });
  }

  it('sudo to another user (no password needed as root)', async () => {
    const s = await start();
    const a = await asA(s);
    expect(((await a.call(`${TASKS}#whoami`)) as Who).uid).toBe(uidA);
    const { Echo } = await import('./fixtures/remote/tasks.js');
    const echo = await s.createActor(Echo, { host: a });
    expect(await s.ask(echo, 'hi', 5000)).toBe('hi');
  });

  it('sudo with a password, through a host running as another user', async () => {
    const s = await start();
    const a = await asA(s);
    const b = await s.connectHost({ method: 'sudo', user: USER_B, password: PASSWORD_A, via: a, serve: [FIXTURES] });
    expect(((await b.call(`${TASKS}#whoami`)) as Who).uid).toBe(uidB);
    const wrong = await s.connectHost({ method: 'sudo', user: USER_B, password: 'wrong', via: a, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(RemoteBootError);
    expect((wrong as Error).message).toMatch(/password was refused|incorrect password/);
  });

  it('sudo with a password answers it on a terminal (a rule that requires one is met); the link is not on it', async () => {
    const s = await start();
    const a = await asA(s);
    const c = await s.connectHost({ method: 'sudo', user: USER_C, password: PASSWORD_A, via: a, serve: [FIXTURES] });
    const who = (await c.call(`${TASKS}#whoami`)) as Who;
    expect(who.uid).toBe(uidC);
    expect(await c.call(`${TASKS}#terminals`)).toEqual({ stdin: false, stdout: false, stderr: true });
    const { dir, path, bytes } = randomFile();
    await c.putFile(path, join(dir, 'received'));
    expect(readFileSync(join(dir, 'received')).equals(bytes)).toBe(true);
    await c.getFile(join(dir, 'received'), join(dir, 'back'));
    expect(readFileSync(join(dir, 'back')).equals(bytes)).toBe(true);
    rmSync(dir, { recursive: true });
    await c.close();
    await eventually(() => (!processAlive(who.pid) ? true : undefined));
  });

  it('su with a password, through a host running as another user', async () => {
    const s = await start();
    const a = await asA(s);
    const b = await s.connectHost({ method: 'su', user: USER_B, password: PASSWORD_B, via: a, serve: [FIXTURES] });
    const who = (await b.call(`${TASKS}#whoami`)) as Who;
    expect(who.uid).toBe(uidB);
    expect(await b.call(`${TASKS}#terminals`)).toEqual({ stdin: false, stdout: false, stderr: true });
    const { dir, path, bytes } = randomFile();
    await b.putFile(path, join(dir, 'received'));
    expect(readFileSync(join(dir, 'received')).equals(bytes)).toBe(true);
    rmSync(dir, { recursive: true });
    const wrong = await s.connectHost({ method: 'su', user: USER_B, password: 'wrong', via: a, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(RemoteBootError);
    expect((wrong as Error).message).toMatch(/Authentication failure/);
    const none = await s.connectHost({ method: 'su', user: USER_B, via: a, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    expect((none as Error).message).toMatch(/asks for a password/);
  });

  it('a password boot without `script` (util-linux) says that is what is missing', async () => {
    const s = await start();
    const bin = mkdtempSync(join(tmpdir(), 'thespis-noscript-'));
    for (const tool of ['sudo', 'su']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      const error = await s.connectHost({ method: 'su', user: USER_B, password: PASSWORD_B }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(RemoteBootError);
      expect((error as Error).message).toMatch(/pseudo-terminal, and `script` \(util-linux\) was not found/);
    } finally {
      process.env.PATH = path;
      rmSync(bin, { recursive: true });
    }
  });

  it('sudo without a password where one is needed fails at once with what sudo said', async () => {
    const s = await start();
    const a = await asA(s);
    const error = await s.connectHost({ method: 'sudo', user: USER_B, via: a }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/password is required/);
  });
});

/** The processes (pid and command line) whose real uid is one of `uids`. */
function ownedBy(uids: number[]): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const uid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      if (uids.includes(uid)) found.push(`${name} ${readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 80)}`);
    } catch {
      // it exited while we looked
    }
  }
  return found;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
