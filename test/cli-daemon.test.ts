// `thespis start|create|tell|ask|status|stop` end to end: the real binary as a
// child process, real daemons on ports the OS chose, each test in a HOME of
// its own, and every daemon killed afterwards.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTORS, CLI, CliSandbox, gone, portClosed, until } from './cli-helpers.js';

let sandbox: CliSandbox;
afterEach(async () => {
  await sandbox.cleanup();
});

function fresh(): CliSandbox {
  sandbox = new CliSandbox();
  return sandbox;
}

describe('thespis daemon commands', () => {
  it('start → create → tell / ask → status (tables and JSON) → stop, and the daemon is gone', async () => {
    const cli = fresh();
    const daemon = await cli.start(['--capability', 'gpu=true', '--capability', 'zone=eu']);
    expect(daemon.admin).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(gone(daemon.pid)).toBe(false);
    // Detached: a session of its own, not the starter's.
    const stat = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8');
    expect(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3])).toBe(daemon.pid); // its session id
    expect(readdirSync(`/proc/${daemon.pid}/fd`).includes('0')).toBe(true); // stdin: /dev/null, not ours
    const env = { THESPIS_ADMIN: daemon.admin };

    const created = await cli.run(['create', `${ACTORS}#Counter`, '--name', 'counter'], { env });
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.stdout.trim()).toBe('name:counter');
    // A relative module path is resolved against the caller's directory (the sandbox's HOME is its cwd).
    const plain = await cli.run(['create', `${relative(cli.home, ACTORS)}#Counter`], { env });
    expect(plain.status).toBe(0);
    const plainAddress = plain.stdout.trim();
    expect(plainAddress).toMatch(/^[0-9a-f]+:\w+\.\d+/);

    expect((await cli.run(['tell', 'name:counter', '{"add":2}'], { env })).status).toBe(0);
    expect((await cli.run(['tell', 'name:counter', '{"add":40}'], { env })).status).toBe(0);
    const asked = await cli.run(['ask', 'name:counter', '"total"'], { env });
    expect(asked.stderr).toBe('');
    expect(asked.status).toBe(0);
    expect(JSON.parse(asked.stdout)).toEqual({ total: 42, big: (2n ** 70n).toString(), tags: ['a', 'b'] });
    // An address in a reply prints as its text form, which tell / ask take back.
    const me = await cli.run(['ask', plainAddress, '"me"'], { env });
    expect(JSON.parse(me.stdout)).toBe(plainAddress);
    const again = await cli.run(['ask', JSON.parse(me.stdout) as string, '"total"'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 0 });

    const tables = await cli.run(['status'], { env });
    expect(tables.status).toBe(0);
    expect(tables.stdout).not.toMatch(/\u001b\[/); // not a terminal: no colour
    const lines = tables.stdout.split('\n');
    const section = (title: string): string[] => {
      const start = lines.findIndex((l) => l.startsWith(title));
      expect(start, `section ${title}`).toBeGreaterThanOrEqual(0);
      const end = lines.indexOf('', start);
      return lines.slice(start + 1, end < 0 ? undefined : end);
    };
    expect(section('system').join('\n')).toMatch(new RegExp(`admin address\\s+${daemon.admin.replace(/\./g, '\\.')}`));
    expect(section('system').join('\n')).toMatch(new RegExp(`pid\\s+${daemon.pid}\\b`));
    expect(section('system').join('\n')).toMatch(/actors\s+2\b/);
    expect(section('capabilities')).toEqual(['  NAME  VALUE', '  gpu   true', '  zone  eu']);
    expect(section('convention (1 system)')[1]).toContain(daemon.admin);
    const kernels = section('kernels');
    expect(kernels[0]).toMatch(/KERNEL\s+ACTORS\s+ENDPOINTS\s+PENDING\s+PAUSED/);
    // The kernels' actor counts add up to the system's, right-aligned under their heading.
    const counts = kernels.slice(1).map((row) => Number(row.trim().split(/\s+/)[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
    const rightEdge = (row: string, n: number): number => [...row.matchAll(/\S+/g)][n]!.index! + [...row.matchAll(/\S+/g)][n]![0].length;
    expect(new Set(kernels.map((row) => rightEdge(row, 1))).size).toBe(1);
    expect(section('dead letters')[0]).toMatch(/DELIVERED\s+DROPPED\s+HANDLER/);

    const json = await cli.run(['status', '--json'], { env });
    const status = JSON.parse(json.stdout) as { pid: number; adminAddress: string; actors: number; capabilities: object; globalNames: number };
    expect(status).toMatchObject({ pid: daemon.pid, adminAddress: daemon.admin, actors: 2, capabilities: { gpu: true, zone: 'eu' }, globalNames: 1 });

    const coloured = await cli.run(['status'], { env: { ...env, FORCE_COLOR: '1' } });
    expect(coloured.stdout).toMatch(/\u001b\[1msystem\u001b\[22m/);

    const stopped = await cli.run(['stop'], { env });
    expect(stopped.stderr).toBe('');
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toContain(`pid ${daemon.pid} exited`);
    // stop returned only once the process had exited, so this holds at once.
    expect(gone(daemon.pid)).toBe(true);
    expect(await portClosed(daemon.admin)).toBe(true);
    expect(readdirSync(cli.stateDir).filter((name) => name.endsWith('.pid'))).toEqual([]);
    expect(readFileSync(daemon.log, 'utf8')).toMatch(/system \w+ stopped/);

    const after = await cli.run(['status'], { env });
    expect(after.status).toBe(1);
    expect(after.stderr).toMatch(/^thespis status: cannot connect to the system at .*connection refused.*thespis start/);
    expect(after.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('ask fails with one line and exit 1 for a dead target, a timeout and a poisoned actor; bad input is exit 2', async () => {
    const cli = fresh();
    const daemon = await cli.start(['--base', 'inline']);
    const env = { THESPIS_ADMIN: daemon.admin };
    expect((await cli.run(['create', `${ACTORS}#Thrower`, '--name', 'thrower'], { env })).status).toBe(0);
    expect((await cli.run(['create', `${ACTORS}#Mute`, '--name', 'mute'], { env })).status).toBe(0);

    const cases: Array<[string[], number, RegExp]> = [
      [['ask', 'name:nobody', '1'], 1, /no such actor/],
      [['ask', 'name:mute', '1', '--timeout', '200'], 1, /did not answer in time/],
      [['ask', 'name:thrower', '1'], 1, /threw on this message twice: .*always throws/],
      [['ask', 'name:mute', 'not json'], 2, /not valid JSON/],
      [['ask', 'no-such-address', '1'], 2, /not an actor address/],
      [['tell', 'name:mute'], 2, /missing an argument/],
      [['create', `${ACTORS}#Nope`], 1, /no actor class exported as "Nope"/],
      [['create', `${ACTORS}`], 2, /not <module>#<Export>/],
      [['status', '--bogus'], 2, /unknown option --bogus/],
    ];
    for (const [args, code, message] of cases) {
      const result = await cli.run(args, { env });
      expect(result.status, args.join(' ')).toBe(code);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).not.toMatch(/^\s+at /m);
    }
  });

  it('two daemons in one convention: status shows both, and a create is placed by capability', async () => {
    const cli = fresh();
    const leader = await cli.start(['--base', 'inline', '--capability', 'role=leader']);
    const member = await cli.start(['--base', 'inline', '--convention', leader.admin, '--capability', 'gpu=true']);
    const env = { THESPIS_ADMIN: leader.admin };
    await until('the member to join', async () => {
      const result = await cli.run(['status', '--json'], { env });
      return result.status === 0 && (JSON.parse(result.stdout) as { convention: unknown[] }).convention.length === 2;
    });
    const tables = await cli.run(['status'], { env });
    const convention = tables.stdout.slice(tables.stdout.indexOf('convention (2 systems)'));
    const rows = convention.split('\n').slice(2, 4);
    expect(rows.find((r) => r.includes(leader.admin))).toMatch(/leader\s+\d+\s+this system\s+role=leader/);
    expect(rows.find((r) => r.includes(member.admin))).toMatch(/member\s+\d+\s+\d+\.\d s ago\s+gpu=true/);

    // Created through the leader, which lacks gpu (the class requires it): placed on the member.
    const created = await cli.run(['create', `${ACTORS}#GpuWorker`], { env });
    expect(created.stderr).toBe('');
    const reply = await cli.run(['ask', created.stdout.trim(), 'null'], { env });
    expect(reply.stderr).toBe('');
    expect(JSON.parse(reply.stdout)).toBe(member.pid);
    const unmet = await cli.run(['create', `${ACTORS}#Counter`, '--requirement', 'tpu=4'], { env });
    expect(unmet.status).toBe(1);
    expect(unmet.stderr).toMatch(/^thespis create: NoCompatibleSystemError: .*\{"tpu":4\}/);
  });

  it('start exits 1 with the reason: port taken, daemon already there, bad capability, unreadable secret file', async () => {
    const cli = fresh();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const port = (squatter.address() as AddressInfo).port;
      const taken = await cli.run(['start', '--port', String(port), '--base', 'inline']);
      expect(taken.status).toBe(1);
      expect(taken.stderr).toMatch(new RegExp(`^thespis start: port ${port} on 127\\.0\\.0\\.1 is taken .*--port 0`));
      // It says so only once its daemon has gone: none is left behind.
      expect(readdirSync(cli.stateDir).filter((name) => name.endsWith('.pid'))).toEqual([]);
      const foreground = await cli.run(['start', '--foreground', '--port', String(port), '--base', 'inline']);
      expect(foreground.status).toBe(1);
      expect(foreground.stderr).toMatch(new RegExp(`^thespis start: port ${port} on 127\\.0\\.0\\.1 is taken .*\n$`));
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }

    const first = await cli.start(['--base', 'inline']);
    const port = first.admin.slice(first.admin.lastIndexOf(':') + 1);
    const second = await cli.run(['start', '--port', port, '--base', 'inline']);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`already serves 127\\.0\\.0\\.1:${port}: stop it with \`thespis stop --admin 127\\.0\\.0\\.1:${port}\``));
    expect(second.stderr).toContain(`(pid ${first.pid})`);

    const badCapability = await cli.run(['start', '--port', '0', '--capability', 'gpu']);
    expect(badCapability.status).toBe(1);
    expect(badCapability.stderr).toMatch(/bad capability "gpu": write it as name=value/);
    const noSecret = await cli.run(['start', '--port', '0', '--secret-file', 'missing.txt']);
    expect(noSecret.status).toBe(1);
    expect(noSecret.stderr).toMatch(/cannot read the secret file .*missing\.txt: there is no such file/);
    const exposed = await cli.run(['start', '--port', '0', '--host', '0.0.0.0']);
    expect(exposed.status).toBe(1);
    expect(exposed.stderr).toMatch(/without a secret/);
    expect((await cli.run(['start', '--port', 'x'])).status).toBe(2);
  });

  it('a stale pid file (its daemon was killed) does not keep a new daemon off the port', async () => {
    const cli = fresh();
    const first = await cli.start(['--base', 'inline']);
    process.kill(first.pid, 'SIGKILL');
    await until('the killed daemon to be gone', () => gone(first.pid));
    const port = first.admin.slice(first.admin.lastIndexOf(':') + 1);
    const second = await cli.run(['start', '--port', port, '--base', 'inline']);
    expect(second.stderr).toContain(`listens on ${first.admin}`);
    expect(second.status).toBe(0);
    cli.track(Number(/\(pid (\d+)\)/.exec(second.stderr)![1]));
  });

  it('with a secret: the right secret file connects, a wrong or missing one is refused with one line', async () => {
    const cli = fresh();
    const secret = cli.file('secret', 'correct horse battery\n');
    const wrong = cli.file('wrong', 'incorrect donkey\n');
    const daemon = await cli.start(['--base', 'inline', '--secret-file', secret]);
    const env = { THESPIS_ADMIN: daemon.admin };

    const right = await cli.run(['status', '--json'], { env: { ...env, THESPIS_SECRET_FILE: secret } });
    expect(right.status).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ pid: daemon.pid });

    const bad = await cli.run(['status', '--secret-file', wrong], { env });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^thespis status: cannot connect .*the secret does not match: give the system's secret with --secret-file/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);

    const none = await cli.run(['status'], { env });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/need a secret\?\).*--secret-file/);
    // The daemon logs why (the client may see the refusal first).
    await until('the refusal in the log', () => /refused a connection/.test(readFileSync(daemon.log, 'utf8')));
  });

  it('SIGTERM shuts the daemon down gracefully; SIGUSR1 writes its status to the log', async () => {
    const cli = fresh();
    const daemon = await cli.start(['--base', 'inline', '--capability', 'colour="blue"']);
    const env = { THESPIS_ADMIN: daemon.admin };
    expect((await cli.run(['create', `${ACTORS}#Counter`, '--name', 'c'], { env })).status).toBe(0);

    process.kill(daemon.pid, 'SIGUSR1');
    await until('the status in the log', () => /status #1 \(SIGUSR1\)/.test(readFileSync(daemon.log, 'utf8')));
    const log = readFileSync(daemon.log, 'utf8');
    expect(log).toMatch(/colour\s+blue/);
    expect(log).toMatch(/actors\s+1\b/);
    expect(gone(daemon.pid)).toBe(false);

    process.kill(daemon.pid, 'SIGTERM');
    await until('the daemon to exit', () => gone(daemon.pid));
    expect(readFileSync(daemon.log, 'utf8')).toMatch(/SIGTERM: shutting down[^]*system \w+ stopped/);
    expect(await portClosed(daemon.admin)).toBe(true);
    expect(existsSync(`${cli.stateDir}/127.0.0.1-${daemon.admin.split(':')[1]}.pid`)).toBe(false);
  });

  it('the log has a size cap and one rotation', async () => {
    const cli = fresh();
    const log = `${cli.home}/daemon.log`;
    const daemon = await cli.start(['--base', 'inline', '--log', 'daemon.log', '--log-max-size', '2k']);
    expect(daemon.log).toBe(log);
    // Each SIGUSR1 writes ~1 KiB of status, numbered: six of them rotate the log more than once.
    const text = (): string => [log, `${log}.1`].map((file) => (existsSync(file) ? readFileSync(file, 'utf8') : '')).join('');
    const latest = (): number => Math.max(0, ...[...text().matchAll(/ daemon: status #(\d+) \(SIGUSR1\)$/gm)].map((m) => Number(m[1])));
    for (let i = 1; i <= 6; i++) {
      process.kill(daemon.pid, 'SIGUSR1');
      await until(`status #${i}`, () => latest() >= i, 10_000, () => `daemon ${gone(daemon.pid) ? 'gone' : 'running'}\n${text()}`);
    }
    await until('a rotation', () => existsSync(`${log}.1`));
    for (const file of [log, `${log}.1`]) expect(readFileSync(file).length).toBeLessThanOrEqual(2048);
    expect(readFileSync(`${log}.1`, 'utf8')).toMatch(/status #\d \(SIGUSR1\)/);
    expect(latest()).toBe(6);
  });

  it('a foreground daemon logs to stderr and stops on SIGINT', async () => {
    const cli = fresh();
    const child = spawn(process.execPath, [CLI, 'start', '--foreground', '--port', '0', '--base', 'inline'], { env: cli.env, stdio: ['ignore', 'pipe', 'pipe'] });
    cli.track(child.pid!);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until('the address on stdout', () => /^127\.0\.0\.1:\d+\n/.test(stdout), 20_000, () => stderr);
    expect(stderr).toMatch(/daemon: system \w+ listens on/);
    const ask = await cli.run(['status', '--json', '--admin', stdout.trim()]);
    expect(JSON.parse(ask.stdout)).toMatchObject({ pid: child.pid });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGINT: shutting down[^]*stopped/);
  });
});
