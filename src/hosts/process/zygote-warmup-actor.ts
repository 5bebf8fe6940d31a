/**
 * The actor a zygote runs once before its first fork (zygote-warmup.ts). It
 * lives in a module of its own that nothing imports statically, so the
 * warm-up loads it the way a child loads a user's actor: through the whole
 * ES module loader (resolve, read, compile, link, evaluate), whose code the
 * children then inherit compiled.
 */
import { Actor, type ActorAddress } from '../../index.js';

export class WarmupActor extends Actor {
  static override module = import.meta.url;
  override receiveMessage(message: unknown, sender: ActorAddress): void {
    if (typeof message === 'string') this.send(sender, { echo: message, at: new Date() });
  }
}
