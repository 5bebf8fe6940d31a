/**
 * A system's status() as tables a person reads at a glance: the system,
 * its capabilities, the convention's members, the kernels, dead letters,
 * remote hosts and loadable sources, and any further list the status carries.
 */
import type { SystemStatus } from '../../index.js';
import { toJson } from '../json.js';
import { sourcesTable } from './sources-view.js';
import { pairs, table, type Style } from './table.js';

/** Sections shown by name below; any other list of records in a status gets a table of its own. */
const KNOWN = new Set(['kernels', 'convention', 'capabilities', 'deadLetters', 'hosts', 'sources']);

export function renderStatus(status: SystemStatus, look: Style, now = Date.now()): string {
  const sections: string[] = [];
  const section = (title: string, body: string): void => void sections.push(`${look.heading(title)}\n${body}`);

  section(
    'system',
    pairs(
      [
        ['id', status.systemId],
        ['admin address', status.adminAddress ?? 'none'],
        ['pid', String(status.pid)],
        ['base', status.base],
        ['actors', String(status.actors)],
        ['pending messages', String(status.pendingMessages)],
        ['paused actors', String(status.pausedActors)],
        ['threads', String(status.threads)],
        ['processes', String(status.processes)],
        ['clients', String(status.clients)],
        ['global names', String(status.globalNames)],
        ['source authority', status.sourceAuthority ?? look.dim('none (loads are ignored)')],
      ],
      look,
    ),
  );

  const capabilities = Object.entries(status.capabilities).map(([name, value]) => [name, showValue(value)]);
  section('capabilities', table(['NAME', 'VALUE'], capabilities, look));

  const count = status.convention.length;
  const members = status.convention.map((m) => [
    m.adminAddress,
    m.systemId,
    m.leader ? look.good('leader') : count === 1 ? 'alone' : 'member',
    String(m.actors),
    m.lastHeard === null ? look.dim('this system') : `${((now - m.lastHeard) / 1000).toFixed(1)} s ago`,
    Object.entries(m.capabilities)
      .map(([name, value]) => `${name}=${showValue(value)}`)
      .join(' '),
  ]);
  section(`convention (${count} ${count === 1 ? 'system' : 'systems'})`, table(['ADMIN ADDRESS', 'SYSTEM', 'ROLE', 'ACTORS', 'LAST HEARD', 'CAPABILITIES'], members, look, '(not on the network)'));

  const kernels = status.kernels.map((k) => [k.kernel, String(k.actors), String(k.endpoints), String(k.pendingMessages), String(k.pausedActors)]);
  section('kernels', table(['KERNEL', 'ACTORS', 'ENDPOINTS', 'PENDING', 'PAUSED'], kernels, look));

  const dead = status.deadLetters;
  const dropped = dead.dropped > 0 ? look.warn(String(dead.dropped)) : String(dead.dropped);
  section('dead letters', table(['DELIVERED', 'DROPPED', 'HANDLER'], [[String(dead.delivered), dropped, dead.handler ?? look.dim('none')]], look));

  const hosts = (status.hosts ?? []).map((h) => [
    h.name,
    h.connected ? look.good('connected') : look.warn('gone'),
    h.pid === undefined ? '' : String(h.pid),
    h.path.join(' → '),
    h.reason ?? '',
  ]);
  section('remote hosts', table(['NAME', 'STATE', 'PID', 'PATH', 'WHY GONE'], hosts, look));

  if (status.sources !== undefined) section('sources', sourcesTable(status.sources, look));

  for (const [key, value] of Object.entries(status)) {
    if (KNOWN.has(key) || !Array.isArray(value) || !value.every(isRecord)) continue;
    const columns = [...new Set(value.flatMap((row) => Object.keys(row)))];
    const rows = value.map((row) => columns.map((column) => showValue(row[column])));
    section(key, table(columns.map((c) => c.toUpperCase()), rows, look));
  }
  return sections.join('\n\n') + '\n';
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : toJson(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
