// The actor the build's code-cache host runs (bundle-remote.mjs), so that the
// kernel's paths for creating an actor and passing it messages are compiled
// into the cache a remote host starts from.
import { Actor } from '../dist/index.js';

export class Warmup extends Actor {
  static module = import.meta.url;
  receiveMessage(message, sender) {
    this.send(sender, message);
  }
}
