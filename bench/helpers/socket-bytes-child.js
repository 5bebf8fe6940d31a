// Far end of the Unix-socket size sweep, a separate process:
//   node socket-bytes-child.js <path> <size> <n>
// on the parent's 'g', writes n frames of `size` payload bytes (a 4-byte
// little-endian length, then the bytes), one write per frame, waiting for
// 'drain' when the socket is full: the least a sender of framed messages does.

import net from 'node:net';
import { once } from 'node:events';
import { payloadOf } from '../lib/payload.js';

const [path, sizeArg, countArg] = process.argv.slice(2);
const size = Number(sizeArg);
const n = Number(countArg);

const frame = Buffer.allocUnsafe(4 + size);
frame.writeUInt32LE(size, 0);
frame.write(payloadOf('string', size), 4, 'latin1');

const sock = net.connect(path);
await once(sock, 'connect');
sock.on('close', () => process.exit(0));
sock.on('error', () => process.exit(1));
await once(sock, 'data');
for (let i = 0; i < n; i++) {
  if (!sock.write(frame)) await once(sock, 'drain');
}
