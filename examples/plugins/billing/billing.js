// A loadable source's actor: it imports its own source by relative path and
// thespis itself (the system's own, so Actor is the class the system knows).
import { Actor } from 'thespis';
import { taxRate } from './rates.js';

export class Biller extends Actor {
  receiveMessage({ amount }, sender) {
    this.send(sender, { amount, tax: amount * taxRate, from: import.meta.url });
  }
}
