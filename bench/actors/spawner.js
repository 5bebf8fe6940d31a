// Creation figures: on { children: n, host? } it creates n Echo children and
// says hello to each; it answers when all n have answered, so the time covers
// creating actors that can actually receive, not just handing out addresses.

import { Actor } from 'thespis';
import { Echo } from './echo.js';

export class Spawner extends Actor {
  static module = import.meta.url;
  waiting = 0;
  total = 0;
  reportTo = null;

  receiveMessage(message, sender) {
    if (this.waiting > 0) {
      if (--this.waiting === 0) this.send(this.reportTo, { created: this.total });
      return;
    }
    if (typeof message?.children !== 'number') return;
    this.total = this.waiting = message.children;
    this.reportTo = sender;
    const options = message.host ? { host: message.host } : {};
    for (let i = 0; i < message.children; i++) this.send(this.createActor(Echo, options), 'hello');
  }
}
