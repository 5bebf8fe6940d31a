// Counts length-prefixed frames (u32 little-endian length, then body) in a
// byte stream cut anywhere, without copying bodies: the least a receiver of
// framed messages must do.

import { pingPong } from './threads.js';

export function frameCounter(onFrames) {
  const header = Buffer.alloc(4);
  let have = 0; // header bytes held from a previous chunk
  let skip = -1; // body bytes still to pass; -1 while reading a header
  return (chunk) => {
    let frames = 0;
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      if (skip >= 0) {
        const k = Math.min(skip, len - off);
        off += k;
        skip -= k;
        if (skip === 0) {
          frames++;
          skip = -1;
        }
        continue;
      }
      if (have === 0 && len - off >= 4) {
        skip = chunk.readUInt32LE(off);
        off += 4;
      } else {
        header[have++] = chunk[off++];
        if (have < 4) continue;
        skip = header.readUInt32LE(0);
        have = 0;
      }
      if (skip === 0) {
        frames++;
        skip = -1;
      }
    }
    if (frames) onFrames(frames);
  };
}

/**
 * p50 of round trips of one 64-byte frame over `sock` to an echoing peer
 * (500 untimed first), in µs; `rounds` timed.
 */
export async function framePingPong(sock, rounds) {
  const frame = Buffer.alloc(64, 1);
  frame.writeUInt32LE(60, 0);
  let got = 0;
  let reply = null;
  sock.on('data', (d) => {
    got += d.length;
    if (got >= 64) {
      got -= 64;
      reply();
    }
  });
  const trip = (n) => pingPong(n, () => sock.write(frame), (f) => (reply = f));
  await trip(500);
  return trip(rounds);
}
