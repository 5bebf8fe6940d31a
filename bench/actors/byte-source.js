// Sending end of the size-sweep figures. On { go: n, size, kind, window,
// target } it sends n payloads of `size` bytes to `target`, keeping at most
// `window` of them not yet acknowledged by the sink: a producer of large
// messages paces itself by credit, as it would in real use (and as the
// MessagePort peer does), so the figure is throughput, not queue growth.

import { Actor } from 'thespis';
import { payloadOf } from '../lib/payload.js';

export class ByteSource extends Actor {
  static module = import.meta.url;
  payload = null;
  left = 0;
  credit = 0;
  target = null;

  receiveMessage(message) {
    if (typeof message?.acked === 'number') {
      this.credit += message.acked;
      this.pump();
    } else if (typeof message?.go === 'number') {
      this.payload = payloadOf(message.kind, message.size);
      this.left = message.go;
      this.credit = message.window;
      this.target = message.target;
      this.pump();
    }
  }

  pump() {
    while (this.left > 0 && this.credit > 0) {
      this.left--;
      this.credit--;
      this.send(this.target, this.payload);
    }
  }
}
