// Near side of actor-to-actor ping-pong. On { rounds, target } it plays that
// many round trips one at a time, timing each where it happens (inside the
// actor's own thread or process), and answers with the median in µs.

import { Actor } from 'thespis';
import { MESSAGE } from '../lib/message.js';

export class Pinger extends Actor {
  static module = import.meta.url;
  times = null;
  done = 0;
  t0 = 0;
  target = null;
  reportTo = null;

  receiveMessage(message, sender) {
    if (this.times !== null && this.done < this.times.length) {
      this.times[this.done++] = performance.now() - this.t0;
      if (this.done < this.times.length) return this.ping();
      const sorted = this.times.sort();
      this.send(this.reportTo, { p50_us: sorted[(sorted.length - 1) >> 1] * 1000 });
      return;
    }
    if (typeof message?.rounds === 'number') {
      this.times = new Float64Array(message.rounds);
      this.done = 0;
      this.target = message.target;
      this.reportTo = sender;
      this.ping();
    }
  }

  ping() {
    this.t0 = performance.now();
    this.send(this.target, MESSAGE);
  }
}
