// Membership figures: on 'watch' it subscribes to convention updates and
// passes each one on to whoever asked, stamped with the wall clock (ms, sub-ms
// resolution) at which it arrived here, so a join or a removal is timed where
// the leader learns it.

import { Actor, ActorSystemConventionUpdate } from 'thespis';

export class Watcher extends Actor {
  static module = import.meta.url;
  reportTo = null;

  receiveMessage(message, sender) {
    if (message instanceof ActorSystemConventionUpdate) {
      const at = performance.timeOrigin + performance.now();
      if (this.reportTo !== null) this.send(this.reportTo, { address: message.remoteAdminAddress, added: message.remoteAdded, at });
      return;
    }
    if (message === 'watch') {
      this.reportTo = sender;
      this.notifyOnSystemRegistrationChanges();
      this.send(sender, 'watching');
    }
  }
}
