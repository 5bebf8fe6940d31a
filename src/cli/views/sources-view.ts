/**
 * The sources a system's status() lists, as a table (for `thespis sources`
 * and the sources section of `thespis status`): the whole hash, since that
 * is what create --source and unload take.
 */
import type { SourceStatus } from '../../index.js';
import { table, type Style } from './table.js';

export function sourcesTable(sources: readonly SourceStatus[], look: Style): string {
  const rows = sources.map((s) => [
    s.hash,
    s.state === 'loaded' ? look.good('loaded') : look.warn(s.state),
    String(s.files),
    s.info ?? '',
    localTime(s.since),
    s.sourceInfo ?? '',
  ]);
  return table(['HASH', 'STATE', 'FILES', 'FROM', 'SINCE', 'AUTHORITY SAID'], rows, look, '(no sources loaded)');
}

/** "2024-05-01 12:00:03" in the local time zone. */
function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
