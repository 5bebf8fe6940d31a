// Sending end of the one-way flow figures: on { go: n, target } it sends the
// shared 5-field message n times. It yields between chunks as a real producer
// would, so the runtime gets to flush and the receiver to drain.

import { Actor } from 'thespis';
import { MESSAGE } from '../lib/message.js';

const CHUNK = 4096;
const yieldTurn = () => new Promise((resolve) => setImmediate(resolve));

export class Sender extends Actor {
  static module = import.meta.url;

  async receiveMessage(message) {
    if (typeof message?.go !== 'number') return;
    const { go: n, target } = message;
    for (let sent = 0; sent < n; ) {
      const end = Math.min(n, sent + CHUNK);
      for (; sent < end; sent++) this.send(target, MESSAGE);
      if (sent < n) await yieldTurn();
    }
  }
}
