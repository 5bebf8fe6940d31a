// Far end of the Unix-socket and TCP peers, a separate process:
//   node socket-child.js <path|port> stream <n>   on 'go', write n 64-byte frames, 1024 per write
//   node socket-child.js <path|port> echo         send back every byte received
// A number is a TCP port on 127.0.0.1 (Nagle off), anything else a socket path.

import net from 'node:net';
import { once } from 'node:events';

const [path, mode, count] = process.argv.slice(2);
const FRAME = 64;
const PER_WRITE = 1024;

const sock = /^\d+$/.test(path) ? net.connect({ host: '127.0.0.1', port: Number(path) }) : net.connect(path);
await once(sock, 'connect');
sock.setNoDelay(true);

if (mode === 'echo') {
  sock.on('data', (d) => sock.write(d));
} else {
  const n = Number(count);
  const payload = Buffer.alloc(FRAME - 4, 7);
  await once(sock, 'data');
  for (let sent = 0; sent < n; ) {
    const k = Math.min(PER_WRITE, n - sent);
    const buf = Buffer.allocUnsafe(k * FRAME);
    for (let j = 0; j < k; j++) {
      buf.writeUInt32LE(FRAME - 4, j * FRAME);
      payload.copy(buf, j * FRAME + 4);
    }
    sent += k;
    if (!sock.write(buf)) await once(sock, 'drain');
  }
}
sock.on('close', () => process.exit(0));
sock.on('error', () => process.exit(1));
