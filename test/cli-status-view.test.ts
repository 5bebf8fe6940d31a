// The status tables for lists a daemon started by the CLI cannot fill by
// itself: remote hosts (connected by a program), sources in each state, and a
// list the status may carry later, which gets a table of its own.
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../dist/cli/views/status-view.js';
import { style } from '../dist/cli/views/table.js';
import type { SystemStatus } from '../dist/index.js';

const status = {
  systemId: 'aa11bb22',
  pid: 4242,
  base: 'workers',
  adminAddress: '127.0.0.1:1900',
  actors: 3,
  pendingMessages: 0,
  pausedActors: 0,
  threads: 2,
  processes: 0,
  clients: 1,
  globalNames: 0,
  capabilities: {},
  kernels: [{ kernel: 'aa11bb22:main', actors: 3, endpoints: 2, pendingMessages: 0, pausedActors: 0 }],
  convention: [{ adminAddress: '127.0.0.1:1900', systemId: 'aa11bb22', capabilities: {}, leader: false, actors: 3, lastHeard: null }],
  deadLetters: { delivered: 0, dropped: 12, handler: null },
  hosts: [
    { name: 'db1', kernelId: 'aa11bb22:h1', connected: true, pid: 777, path: ['aa11bb22:h1'], moduleRequests: 3 },
    { name: 'root@db1', kernelId: 'aa11bb22:h2', connected: false, reason: 'its link ended', path: ['aa11bb22:h1', 'aa11bb22:h2'], moduleRequests: 0 },
  ],
  sources: [
    { hash: 'c'.repeat(64), state: 'loaded', files: 12, bytes: 4096, info: '/srv/plugins/billing', sourceInfo: 'signed by abc', since: Date.UTC(2024, 4, 1, 12) },
    { hash: 'd'.repeat(64), state: 'pending', files: 3, bytes: 300, info: null, sourceInfo: null, since: Date.UTC(2024, 4, 1, 12) },
  ],
  sourceAuthority: null,
  widgets: [{ hash: 'ab12', modules: 4, validated: true }],
} as unknown as SystemStatus;

describe('status tables', () => {
  it('show remote hosts and any further list of records, aligned', () => {
    const text = renderStatus(status, style(false));
    const hosts = text.slice(text.indexOf('remote hosts\n')).split('\n').slice(1, 4);
    expect(hosts[0]).toMatch(/^  NAME\s+STATE\s+PID\s+PATH\s+WHY GONE$/);
    expect(hosts[1]).toMatch(/^  db1\s+connected\s+777\s+aa11bb22:h1\s*$/);
    expect(hosts[2]).toMatch(/^  root@db1\s+gone\s+aa11bb22:h1 → aa11bb22:h2\s+its link ended$/);
    expect(hosts[1]!.indexOf('connected')).toBe(hosts[2]!.indexOf('gone'));
    expect(text).toMatch(/widgets\n {2}HASH\s+MODULES\s+VALIDATED\n {2}ab12\s+4\s+true/);
    const sources = text.slice(text.indexOf('sources\n')).split('\n').slice(1, 4);
    expect(sources[0]).toMatch(/^ {2}HASH {62}STATE {4}FILES {2}FROM {18}SINCE {16}AUTHORITY SAID$/);
    expect(sources[1]).toMatch(/^ {2}c{64} {2}loaded {6}12 {2}\/srv\/plugins\/billing {2}2024-05-01 \d\d:00:00 {2}signed by abc$/);
    expect(sources[2]).toMatch(/^ {2}d{64} {2}pending {6}3 {24}2024-05-01 \d\d:00:00\s*$/);
    expect(text).toMatch(/source authority\s+none \(loads are ignored\)/);
    expect(text).toMatch(/ROLE[^\n]*\n[^\n]*alone/);
  });

  it('colour marks headings and what needs a look, and nothing else', () => {
    const text = renderStatus(status, style(true));
    expect(text).toContain('\u001b[1mremote hosts\u001b[22m');
    expect(text).toContain('\u001b[33m12\u001b[39m'); // dropped dead letters
    expect(text).toContain('\u001b[33mgone\u001b[39m');
    expect(text).toContain('\u001b[32mloaded\u001b[39m');
    expect(text).toContain('\u001b[33mpending\u001b[39m');
    expect(text.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderStatus(status, style(false)));
  });
});
