/**
 * A daemon's log file with a size cap and one rotation (Thespian's
 * THESPLOG_FILE_MAXSIZE idea): when a line would take the file past the cap,
 * the file is copied to "<file>.1" (replacing the last one) and emptied.
 *
 * Copy-and-truncate rather than rename: a detached daemon's stdout and
 * stderr, and those of the process actors it starts, are this same file
 * opened for appending, and they keep writing to it after a rotation (a
 * rename would leave them writing, uncapped, to the old file). Its own lines
 * are written synchronously, so none is lost in a rotation or at exit; what
 * another process writes in the instant between the copy and the truncation
 * can be.
 */
import { closeSync, copyFileSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { LogRecord } from '../../index.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

export class LogFile {
  private fd: number | null;

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(path, 'a', 0o600);
  }

  write(text: string): void {
    if (this.fd === null) return;
    const bytes = Buffer.from(text);
    const size = fstatSync(this.fd).size;
    if (size > 0 && size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private rotate(): void {
    copyFileSync(this.path, `${this.path}.1`);
    ftruncateSync(this.fd!, 0);
  }
}

/** One line per record: time, level, source, message, detail. */
export function formatRecord(record: LogRecord): string {
  const detail = record.detail === undefined ? '' : ` ${typeof record.detail === 'string' ? record.detail : safeJson(record.detail)}`;
  return `${new Date(record.time).toISOString()} ${record.level.padEnd(5)} ${record.source}: ${record.message}${detail}\n`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(value);
  }
}
