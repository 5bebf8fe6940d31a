// The `thespis` command without a daemon: `run`, help for every command, and
// exit codes (the source commands: cli-sources.test.ts).
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const GREETER = fileURLToPath(new URL('../examples/greeter.js', import.meta.url));
const COMMANDS = ['start', 'status', 'create', 'tell', 'ask', 'load', 'unload', 'sources', 'shell', 'stop', 'source', 'run', 'version'];

const env = { ...process.env };
delete env.THESPIS_ADMIN;

function thespis(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env });
}

/** The same, several at once. */
function thespisAll(runs: readonly string[][]): Promise<Array<{ status: number | null; stdout: string; stderr: string }>> {
  return Promise.all(
    runs.map(
      (args) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env }, (error, stdout, stderr) =>
            resolve({ status: child.exitCode ?? (error as { code?: number } | null)?.code ?? null, stdout, stderr }),
          );
        }),
    ),
  );
}

describe('thespis command', () => {
  it('runs an actor from a module and prints its reply', () => {
    const result = thespis('run', `${GREETER}#Greeter`, '"cli"');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toBe('hello, cli (#1)');
  });

  it('reports a missing export with the typed error and exit code 1', () => {
    const result = thespis('run', `${GREETER}#Nope`, 'null', '--base', 'inline');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('InvalidActorSpecError');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('has --help for every command, and lists them all', async () => {
    const [overview, ...helps] = await thespisAll([['help'], ...COMMANDS.map((name) => [name, '--help']), ...COMMANDS.map((name) => ['help', name])]);
    expect(overview!.status).toBe(0);
    COMMANDS.forEach((name, i) => {
      expect(overview!.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
      const help = helps[i]!;
      expect(help.status, name).toBe(0);
      expect(help.stdout, name).toMatch(new RegExp(`^usage: thespis ${name}\\b`));
      expect(helps[COMMANDS.length + i]!.stdout, name).toBe(help.stdout);
    });
  });

  it('exit code 2 with one line for bad usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^usage: thespis <command>/],
      [['nope'], /^thespis: unknown command "nope"; see `thespis help`/],
      [['run', `${GREETER}#Greeter`, '{bad'], /^thespis run: the message is not valid JSON/],
      [['status', '--admin', 'nowhere'], /^thespis status: --admin must be host:port, got "nowhere"/],
      [['status', '--json=yes'], /^thespis status: --json takes no value/],
      [['create'], /^thespis create: missing an argument; see `thespis create --help`/],
      [['ask', 'name:x', '1', '--timeout', 'soon'], /^thespis ask: --timeout must be a whole number/],
      [['start', '--base', 'threads'], /^thespis start: --base must be one of workers, inline, processes/],
    ];
    const results = await thespisAll(cases.map(([args]) => args));
    cases.forEach(([args, message], i) => {
      const result = results[i]!;
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      if (args.length > 0) expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    });
  });

  it('says what to do when no system answers', () => {
    const result = thespis('status', '--admin', '127.0.0.1:1');
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^thespis status: cannot connect to the system at 127\.0\.0\.1:1: nothing listens there .*`thespis start`/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(thespis('version').stdout).toMatch(/^thespis \d+\.\d+\.\d+\n$/);
  });
});
