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

/**
 * When `pid` started (clock ticks since boot), or undefined when there is no
 * such process. A pid can be reused once its process is reaped: the start
 * time tells a process from a later one with the same pid. A zombie still has
 * its start time (it is gone only once reaped).
 */
export function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  } catch {
    return undefined;
  }
}

/**
 * Pids of the live processes whose environment holds `name=value`, wherever
 * they are in the process tree (children inherit the environment, so this
 * finds a leaked process even after it was re-parented). A zombie's
 * environment reads empty: find those by pid.
 */
export function withEnv(name: string, value: string): number[] {
  const entry = `${name}=${value}`;
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(entry)) out.push(Number(p));
    } catch {
      // another user's, or gone
    }
  }
  return out;
}

/** Alive: present and not a zombie (a zombie has exited; only its parent's reaping is left). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
