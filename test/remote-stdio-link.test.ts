// The remote hosts' stdio link over real pipes (a `cat` child echoes what the
// link writes back to it): reads made by polling after a batch, and small
// flushes written straight to the descriptor (with the stream taking what a
// full pipe does not), keep every record whole and in order.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { StdioLink, STDIO_LINK_SPIN_US } from '../dist/remote/stdio-link.js';

let cat: ChildProcessWithoutNullStreams | undefined;
afterEach(async () => {
  if (cat === undefined || cat.exitCode !== null) return;
  const exited = new Promise((resolve) => cat!.once('exit', resolve));
  cat.kill();
  await exited;
  cat = undefined;
});

/** A record of `size` bytes saying `seq` in its first four and, after, a pattern from it. */
function record(seq: number, size: number): Uint8Array {
  const bytes = Buffer.alloc(Math.max(size, 4));
  bytes.writeUInt32BE(seq);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (seq + i) & 0xff;
  return bytes;
}

function check(bytes: Uint8Array, seq: number, size: number): void {
  const expected = record(seq, size);
  if (!Buffer.from(bytes).equals(expected)) throw new Error(`record ${seq} came back wrong (${bytes.length} bytes, first ${Buffer.from(bytes).readUInt32BE(0)})`);
}

/** Sends `sizes` through cat, `inFlight` at a time, answering each echo with the next; resolves with the link. */
function echo(sizes: number[], inFlight: number, spinUs: number): Promise<StdioLink> {
  cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise<StdioLink>((resolve, reject) => {
    let sent = 0;
    let received = 0;
    /** Kept, as a decoder may keep views of them: checked again at the end. */
    const kept: Uint8Array[] = [];
    const send = (): void => {
      if (sent < sizes.length) link.write(record(sent, sizes[sent]!)), sent++;
    };
    const link: StdioLink = new StdioLink(
      cat!.stdout,
      cat!.stdin,
      1 << 20,
      {
        onRecord: (bytes) => {
          try {
            check(bytes, received, sizes[received]!);
          } catch (error) {
            reject(error);
            return;
          }
          kept.push(bytes);
          received++;
          if (received === sizes.length) {
            try {
              kept.forEach((bytes, seq) => check(bytes, seq, sizes[seq]!));
            } catch (error) {
              reject(error);
              return;
            }
            resolve(link);
          }
          else send();
        },
        onClosed: (error) => reject(error ?? new Error('the link ended')),
      },
      undefined,
      spinUs,
      () => true,
    );
    for (let i = 0; i < inFlight; i++) send();
  });
}

describe('stdio link', () => {
  it('a ping-pong of small records is read by polling after each batch, whole and in order', async () => {
    const sizes = Array.from({ length: 3000 }, (_, i) => 8 + (i % 50) * 7);
    const link = await echo(sizes, 1, STDIO_LINK_SPIN_US);
    // cat echoes within the poll's budget often enough on any machine; without polling every read is the stream's.
    expect(link.polledReads).toBeGreaterThan(0);
    await link.end();
  });

  it('records around and over the pipe size, several in flight, keep order through direct writes and the stream', async () => {
    // 60 KiB flushes go straight to the pipe; with others in flight the pipe fills, writes are partial and the stream takes the rest.
    const sizes = Array.from({ length: 400 }, (_, i) => [10, 40_000, 61_000, 100, 200_000][i % 5]!);
    const link = await echo(sizes, 4, STDIO_LINK_SPIN_US);
    await link.end();
  });

  it('without polling every read is the stream\'s', async () => {
    const link = await echo(Array.from({ length: 200 }, () => 16), 1, 0);
    expect(link.polledReads).toBe(0);
    await link.end();
  });
});
