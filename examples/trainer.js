// An actor that needs a GPU: placement puts it on a system that has one.
import { Actor } from 'thespis';

export class Trainer extends Actor {
  static module = import.meta.url;
  static requirements = { gpu: true };
  receiveMessage(job, sender) {
    this.send(sender, { trained: job, onSystem: this.myAddress.kernel.split(':')[0], pid: process.pid });
  }
}
