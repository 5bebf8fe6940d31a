// ssh, sudo and su: a real OpenSSH server on a loopback port (its own host
// and user keys), sudo to another user, su and sudo with passwords to users
// this setup creates. Each part runs when its package is installed and the
// tests run as root; otherwise it is skipped with a notice naming the package.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ActorSystem, RemoteBootError, type RemoteHost } from '../dist/index.js';
import { sshAvailable, startSshd } from './fixtures/remote/sshd.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/remote/', import.meta.url));
const TASKS = `${FIXTURES}tasks.js`;

const sshMissing = sshAvailable();
const sudoMissing = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/usr/bin/sudo') ? 'needs the Debian package sudo' : !existsSync('/usr/bin/su') ? 'needs su (Debian package util-linux)' : null;
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
  beforeAll(() => {
    uidA = ensureUser(USER_A, PASSWORD_A);
    uidB = ensureUser(USER_B, PASSWORD_B);
    // USER_A may become USER_B with sudo, giving USER_A's password.
    writeFileSync(SUDOERS, `${USER_A} ALL=(${USER_B}) ALL\n`, { mode: 0o440 });
  });
  afterAll(() => {
    rmSync(SUDOERS, { force: true });
    for (const user of [USER_A, USER_B]) execFileSync('userdel', [user], { stdio: 'ignore' });
  });

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

  it('su with a password, through a host running as another user', async () => {
    const s = await start();
    const a = await asA(s);
    const b = await s.connectHost({ method: 'su', user: USER_B, password: PASSWORD_B, via: a, serve: [FIXTURES] });
    const who = (await b.call(`${TASKS}#whoami`)) as Who;
    expect(who.uid).toBe(uidB);
    const wrong = await s.connectHost({ method: 'su', user: USER_B, password: 'wrong', via: a, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    expect(wrong).toBeInstanceOf(RemoteBootError);
    expect((wrong as Error).message).toMatch(/Authentication failure/);
    const none = await s.connectHost({ method: 'su', user: USER_B, via: a, connectTimeoutMs: 20_000 }).catch((e: Error) => e);
    expect((none as Error).message).toMatch(/asks for a password/);
  });

  it('sudo without a password where one is needed fails at once with what sudo said', async () => {
    const s = await start();
    const a = await asA(s);
    const error = await s.connectHost({ method: 'sudo', user: USER_B, via: a }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(RemoteBootError);
    expect((error as Error).message).toMatch(/password is required/);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
