// The machine's processes as /proc shows them, for tests that count children,
// zombies and orphans.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** One letter: R, S, D, Z (zombie), ... */
  state: string;
}

/** Every process on the machine. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]) });
    } catch {
      // it exited while we looked
    }
  }
  return out;
}
