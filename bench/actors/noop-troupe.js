// The troupe peer of piscina / tinypool: a pool of identical members behind
// one address, each task answered with nothing but a reply.

import os from 'node:os';
import { Actor } from 'thespis';

export class NoopTroupe extends Actor {
  static module = import.meta.url;
  static troupe = { max: os.availableParallelism() };

  receiveMessage(message, sender) {
    this.send(sender, true);
  }
}
