// Counts length-prefixed frames (u32 little-endian length, then body) in a
// byte stream cut anywhere, without copying bodies: the least a receiver of
// framed messages must do.

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
