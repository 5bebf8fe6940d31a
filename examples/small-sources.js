// A source authority: it validates every source loaded into the system (here:
// accepts those of at most 64 KiB), and reports what becomes available.
// SignedSourceAuthority (shipped) accepts only sources signed with a key it trusts.
import { Actor, LoadedSource, UnloadedSource, ValidatedSource, ValidateSource } from 'thespis';

export class SmallSources extends Actor {
  static module = import.meta.url;

  constructor() {
    super();
    this.registerSourceAuthority();
    this.notifyOnSourceAvailability();
  }

  receiveMessage(message, sender) {
    if (message instanceof ValidateSource) {
      const small = message.sourceData.length <= 64 * 1024;
      this.send(sender, new ValidatedSource(message.sourceHash, small ? message.sourceData : null, small ? 'small enough' : 'too big'));
    } else if (message instanceof LoadedSource || message instanceof UnloadedSource) {
      this.log.info(`${message.constructor.name} ${message.sourceHash.slice(0, 12)} (${message.sourceInfo ?? ''})`);
    }
  }
}
