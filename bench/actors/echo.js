// Sends every message back to its sender: the far side of ping-pong, the
// child in creation figures, the actor whose start-up is timed.

import { Actor, ActorExitRequest } from 'thespis';

export class Echo extends Actor {
  static module = import.meta.url;

  receiveMessage(message, sender) {
    if (message instanceof ActorExitRequest) return; // not a ping: never bounce it
    this.send(sender, message);
  }
}
