// Receiving end of the one-way flow figures. Asked { expect: n }, it answers
// 'ready' at once (so no flow message can overtake the order), counts the next
// n messages and sends { counted } to the same asker when the last one lands:
// the caller's clock stops exactly when the flow is done.

import { Actor } from 'thespis';

export class Counter extends Actor {
  static module = import.meta.url;
  left = 0;
  expected = 0;
  reportTo = null;

  receiveMessage(message, sender) {
    // The hot path first: while counting, every message is part of the flow.
    if (this.left > 0) {
      if (--this.left === 0) this.send(this.reportTo, { counted: this.expected });
      return;
    }
    if (typeof message?.expect === 'number') {
      this.left = this.expected = message.expect;
      this.reportTo = sender;
      this.send(sender, 'ready');
    }
  }
}
