// An actor module: worker threads and processes import it to load the class,
// so it must have no top-level side effects (no system started here).
import { Actor } from 'thespis';

export class Greeter extends Actor {
  static module = import.meta.url; // lets worker threads and processes load this class
  count = 0;

  receiveMessage(message, sender) {
    if (typeof message === 'string') this.send(sender, `hello, ${message} (#${++this.count})`);
  }
}
