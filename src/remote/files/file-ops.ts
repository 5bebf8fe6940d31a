/**
 * The host's side of file transfers. A file put here is written to a
 * temporary file in the target's directory as its chunks come (one write at a
 * time, acknowledged after it is done, so the sender's window bounds what is
 * in memory), then checked against the sender's SHA-256, given its mode and
 * renamed into place; on any failure the temporary file is removed. A file
 * read from here is sent in chunks while fewer than `window` are unacknowledged.
 */
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { lazyBuiltin } from '../../loader/lazy-builtin.js';

/** Loaded by the first transfer, not at boot. */
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');
const fs = lazyBuiltin<typeof import('node:fs/promises')>('node:fs/promises');

export type Reply = (message: Record<string, unknown>) => void;

/** A temporary name beside `path`. */
export function partPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${crypto().randomBytes(6).toString('hex')}.thespis-part`);
}

/** Receives one file: chunks written in order into a temporary file, renamed into place at the end. */
export class FileSink {
  private readonly part: string;
  private readonly hash: Hash = crypto().createHash('sha256');
  private chain: Promise<unknown>;
  private handle: FileHandle | null = null;
  private written = 0;
  private size = 0;
  private failed = false;

  constructor(
    private readonly path: string,
    private readonly mode: number,
    private readonly ack: (count: number) => void,
    private readonly fail: (error: Error) => void,
  ) {
    this.part = partPath(path);
    this.chain = fs().open(this.part, 'wx', 0o600).then((handle) => (this.handle = handle));
    this.chain.catch((error: unknown) => this.abort(error));
  }

  data(bytes: Uint8Array): void {
    if (this.failed) return;
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      let at = 0;
      while (at < bytes.length) at += (await this.handle!.write(bytes, at, bytes.length - at)).bytesWritten;
      this.hash.update(bytes);
      this.size += bytes.length;
      this.ack(++this.written);
    });
    this.chain.catch((error: unknown) => this.abort(error));
  }

  /** Checks the digest, sets the mode, renames into place; resolves with the size. */
  async end(sha256: string): Promise<number> {
    await this.chain;
    if (this.failed) throw new Error('the transfer failed');
    const digest = this.hash.digest('hex');
    await this.handle!.close();
    this.handle = null;
    if (digest !== sha256) {
      await fs().unlink(this.part).catch(() => undefined);
      throw new Error(`SHA-256 mismatch for ${this.path}: sent ${sha256}, received ${digest}`);
    }
    await fs().chmod(this.part, this.mode);
    await fs().rename(this.part, this.path);
    return this.size;
  }

  abort(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    void this.handle?.close().catch(() => undefined);
    void fs().unlink(this.part).catch(() => undefined);
    this.fail(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Sends one file in chunks while fewer than `window` are unacknowledged. */
export class FileSource {
  private handle: FileHandle | null = null;
  private readonly hash = crypto().createHash('sha256');
  private sent = 0;
  private acked = 0;
  private size = 0;
  private mode = 0o644;
  private reading = false;
  private done = false;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly window: number,
    private readonly chunkBytes: number,
    private readonly send: (bytes: Uint8Array) => void,
    private readonly finish: (end: { sha256: string; mode: number; size: number }) => void,
    private readonly fail: (error: Error) => void,
  ) {}

  async start(): Promise<void> {
    try {
      this.handle = await fs().open(this.path, 'r');
      this.mode = (await this.handle.stat()).mode & 0o7777;
    } catch (error) {
      return this.abort(error);
    }
    void this.pump();
  }

  ack(count: number): void {
    this.acked = Math.max(this.acked, count);
    void this.pump();
  }

  abort(error?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.handle?.close().catch(() => undefined);
    if (error !== undefined) this.fail(error instanceof Error ? error : new Error(String(error)));
  }

  private async pump(): Promise<void> {
    if (this.reading || this.done || this.stopped || this.handle === null) return;
    this.reading = true;
    try {
      while (!this.stopped && this.sent - this.acked < this.window) {
        const buffer = Buffer.allocUnsafe(this.chunkBytes);
        const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) {
          this.done = true;
          await this.handle.close();
          this.handle = null;
          this.finish({ sha256: this.hash.digest('hex'), mode: this.mode, size: this.size });
          return;
        }
        const bytes = buffer.subarray(0, bytesRead);
        this.hash.update(bytes);
        this.size += bytesRead;
        this.sent++;
        this.send(bytes);
      }
    } catch (error) {
      this.abort(error);
    } finally {
      this.reading = false;
    }
  }
}
