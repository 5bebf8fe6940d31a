// NATS (the Debian `nats-server` and the npm `nats` client): publisher →
// callback subscriber in another process through a local nats-server, the
// bench's 5-field message encoded with cbor-x. The publisher yields every
// 4096 messages like the thespis Sender, and keeps at most WINDOW messages
// beyond what the subscriber has acknowledged (NATS has no flow control of
// its own: a subscriber that falls too far behind is cut off as a slow
// consumer). Absent, saying how to install it, when nats-server is missing.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../lib/context.js';
import { MESSAGE, afterWarmUp, now, rate } from '../lib/measure.js';

const ONEWAY = 'peer.nats.oneway.msgs_per_s';
const SUBSCRIBER = fileURLToPath(new URL('../helpers/nats-sub.js', import.meta.url));
const CHUNK = 4096;
const WINDOW = 65_536;

function findServer() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  return null;
}

/** A nats-server on a free loopback port; resolves { address, stop() }. */
async function startServer(path) {
  const server = spawn(path, ['-a', '127.0.0.1', '-p', '-1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const address = await withTimeout(
    new Promise((resolve, reject) => {
      createInterface({ input: server.stderr }).on('line', (line) => {
        const m = /Listening for client connections on (\S+:\d+)/.exec(line);
        if (m) resolve(m[1].replace(/^0\.0\.0\.0:/, '127.0.0.1:'));
      });
      server.once('exit', (code) => reject(new Error(`nats-server exited (${code})`)));
    }),
    10_000,
    'nats-server start',
  );
  return {
    address,
    async stop() {
      if (server.exitCode !== null || server.signalCode !== null) return;
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
  };
}

export default {
  figures: [ONEWAY],
  async run(ctx) {
    const path = findServer();
    if (path === null) ctx.absent('nats-server is not installed (apt-get install -y nats-server)');
    const { connect } = await ctx.need('the nats npm client (npm install)', () => import('nats'));
    const { encode } = await import('cbor-x');
    const server = await startServer(path);
    const subscriber = spawn(process.execPath, [SUBSCRIBER, server.address], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const nc = await connect({ servers: server.address });
    try {
      let acked = 0;
      let wakeAck = null;
      nc.subscribe('bench.ack', {
        callback: (_error, msg) => {
          acked = Math.max(acked, Number(msg.string()));
          wakeAck?.();
        },
      });
      await nc.flush();
      const ask = (message) => {
        const answer = new Promise((resolve) => subscriber.once('message', resolve));
        subscriber.send(message);
        return answer;
      };
      const run = async (n) => {
        acked = 0;
        await ask({ expect: n });
        const done = new Promise((resolve) => subscriber.once('message', resolve));
        const t0 = now();
        for (let sent = 0; sent < n; ) {
          const end = Math.min(n, sent + CHUNK);
          for (; sent < end; sent++) nc.publish('bench.flow', encode(MESSAGE));
          while (sent - acked > WINDOW) await new Promise((resolve) => (wakeAck = resolve));
          if (sent < n) await new Promise((resolve) => setImmediate(resolve));
        }
        const reply = await withTimeout(done, 120_000, 'nats subscriber');
        if (reply?.counted !== n) throw new Error(`subscriber counted ${JSON.stringify(reply)}, not ${n}`);
        return rate(n, now() - t0);
      };
      const n = ctx.pick(1_000_000, 100_000);
      ctx.report(ONEWAY, await afterWarmUp(ctx, () => run(n)), 'msgs/s');
    } finally {
      await nc.close();
      subscriber.disconnect();
      await once(subscriber, 'exit');
      await server.stop();
    }
  },
};
