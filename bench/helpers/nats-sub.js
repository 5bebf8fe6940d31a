// Far end of the NATS peer, a process of its own: a callback subscriber on
// `bench.flow` that decodes each message (cbor-x, as a thespis actor would
// receive it decoded) and counts. Driven over the IPC channel:
//   { expect: n }  subscribe (once), answer 'ready' when the server has the
//                  subscription; count the next n messages, publishing the
//                  count on `bench.ack` every ACK_EVERY (the publisher's
//                  window, so the server never drops us as a slow consumer),
//                  and answer { counted: n } when the last one lands.
//   argv[2]: the server's "host:port".

import { connect } from 'nats';
import { decode } from 'cbor-x';

const ACK_EVERY = 8192;
const nc = await connect({ servers: process.argv[2] });
let left = 0;
let expected = 0;
let sink = 0;
let subscribed = false;

function onMessage(error, msg) {
  if (error) throw error;
  sink += decode(msg.data).seq;
  if (left === 0) return;
  left--;
  const got = expected - left;
  if (got % ACK_EVERY === 0) nc.publish('bench.ack', String(got));
  if (left === 0) process.send({ counted: expected, sink });
}

process.on('message', async (message) => {
  if (typeof message?.expect !== 'number') return;
  left = expected = message.expect;
  if (!subscribed) {
    subscribed = true;
    nc.subscribe('bench.flow', { callback: onMessage });
  }
  await nc.flush();
  process.send('ready');
});
process.on('disconnect', () => nc.close().finally(() => process.exit(0)));
