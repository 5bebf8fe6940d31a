/**
 * File transfers, the system's side. Both directions move chunks of
 * CHUNK_BYTES with at most WINDOW of them unacknowledged, so memory does not
 * grow with the file; the receiving side writes a temporary file beside the
 * target, checks the SHA-256 the sender computed, sets the mode and renames
 * it into place (file-ops.ts does the same on the host).
 */
import { createHash } from 'node:crypto';
import { chmod, open, rename, unlink } from 'node:fs/promises';
import { partPath } from './file-ops.js';
import type { HostRef, HubPort } from '../hub-port.js';

export const CHUNK_BYTES = 256 * 1024;
export const WINDOW = 32;

/** A transfer in progress, as the hub sees it: messages from its host for its id, and failure. */

export async function putFile(hub: HubPort, host: HostRef, localPath: string, remotePath: string, options: { mode?: number }): Promise<number> {
  const handle = await open(localPath, 'r');
  try {
    const mode = options.mode ?? (await handle.stat()).mode & 0o7777;
    const id = hub.nextId();
    const hash = createHash('sha256');
    let acked = 0;
    let wake: (() => void) | null = null;
    let failure: Error | null = null;
    hub.transfers.set(id, {
      host: host.kernelId,
      receive(message) {
        if (message.op !== 'put-ack') return;
        acked = Math.max(acked, Number(message.count));
        wake?.();
      },
      fail(error) {
        failure = error;
        wake?.();
      },
    });
    const done = hub.request(host.kernelId, { op: 'put-open', path: remotePath, mode }, id);
    done.catch((error: Error) => {
      failure ??= error;
      wake?.();
    });
    let sent = 0;
    try {
      for (;;) {
        while (sent - acked >= WINDOW && failure === null) await new Promise<void>((resolve) => (wake = resolve));
        if (failure !== null) throw failure;
        const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
        if (bytesRead === 0) break;
        const bytes = buffer.subarray(0, bytesRead);
        hash.update(bytes);
        hub.tell(host.kernelId, { op: 'put-data', id, bytes });
        sent++;
      }
      hub.tell(host.kernelId, { op: 'put-end', id, sha256: hash.digest('hex') });
      return (await done) as number;
    } catch (error) {
      if (host.connected) hub.tell(host.kernelId, { op: 'abort', id });
      throw error;
    } finally {
      hub.transfers.delete(id);
    }
  } finally {
    await handle.close();
  }
}

export async function getFile(hub: HubPort, host: HostRef, remotePath: string, localPath: string): Promise<number> {
  const part = partPath(localPath);
  const handle = await open(part, 'wx', 0o600);
  const id = hub.nextId();
  const hash = createHash('sha256');
  let received = 0;
  let writing: Promise<unknown> = Promise.resolve();
  let finish!: (end: { sha256: string; mode: number; size: number }) => void;
  let failed!: (error: Error) => void;
  const ended = new Promise<{ sha256: string; mode: number; size: number }>((resolve, reject) => {
    finish = resolve;
    failed = reject;
  });
  hub.transfers.set(id, {
    host: host.kernelId,
    receive(message) {
      if (message.op === 'get-data' && message.bytes instanceof Uint8Array) {
        const bytes = message.bytes;
        writing = writing.then(async () => {
          let at = 0;
          while (at < bytes.length) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
          hash.update(bytes);
          hub.tell(host.kernelId, { op: 'get-ack', id, count: ++received });
        });
        writing.catch((error: Error) => failed(error));
      } else if (message.op === 'get-end') {
        finish({ sha256: String(message.sha256), mode: Number(message.mode), size: Number(message.size) });
      }
    },
    fail: (error) => failed(error),
  });
  const opened = hub.request(host.kernelId, { op: 'get-open', path: remotePath, window: WINDOW, chunkBytes: CHUNK_BYTES }, id);
  opened.catch((error: Error) => failed(error));
  try {
    const end = await ended;
    await writing;
    await handle.close();
    const digest = hash.digest('hex');
    if (digest !== end.sha256) throw new Error(`SHA-256 mismatch for ${remotePath}: sent ${end.sha256}, received ${digest}`);
    await chmod(part, end.mode);
    await rename(part, localPath);
    return end.size;
  } catch (error) {
    if (host.connected) hub.tell(host.kernelId, { op: 'abort', id });
    await handle.close().catch(() => undefined);
    await unlink(part).catch(() => undefined);
    throw error;
  } finally {
    hub.transfers.delete(id);
  }
}
