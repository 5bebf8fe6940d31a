// Receiving end of the size-sweep figures. Asked { expect: n, size, ackEvery },
// it answers 'ready', then takes n payloads (each must arrive whole: a wrong
// size fails the figure), gives the sender credit back every `ackEvery`, and
// reports { counted, bytes } to the asker when the last one lands.

import { Actor } from 'thespis';
import { payloadSize } from '../lib/payload.js';

export class ByteSink extends Actor {
  static module = import.meta.url;
  left = 0;
  expected = 0;
  size = 0;
  ackEvery = 1;
  unacked = 0;
  bytes = 0;
  bad = 0;
  reportTo = null;

  receiveMessage(message, sender) {
    if (this.left > 0) {
      const size = payloadSize(message);
      if (size !== this.size) this.bad++;
      this.bytes += size;
      if (--this.left === 0) {
        this.send(this.reportTo, { counted: this.expected, bytes: this.bytes, bad: this.bad });
      } else if (++this.unacked === this.ackEvery) {
        this.unacked = 0;
        this.send(sender, { acked: this.ackEvery });
      }
      return;
    }
    if (typeof message?.expect === 'number') {
      this.left = this.expected = message.expect;
      this.size = message.size;
      this.ackEvery = message.ackEvery;
      this.unacked = 0;
      this.bytes = 0;
      this.bad = 0;
      this.reportTo = sender;
      this.send(sender, 'ready');
    }
  }
}
