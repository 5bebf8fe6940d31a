import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const GREETER = fileURLToPath(new URL('../examples/greeter.js', import.meta.url));

function thespis(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
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
  });

  it('refuses bad JSON and says the daemon commands are not available', () => {
    expect(thespis('run', `${GREETER}#Greeter`, '{bad').status).toBe(2);
    const status = thespis('status');
    expect(status.status).toBe(2);
    expect(status.stderr).toContain('not available in this release');
  });
});
