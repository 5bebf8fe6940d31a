// `npm start`: a first actor on the default base.
import { Actor, ActorSystem } from 'thespis';

export class Greeter extends Actor {
  static module = import.meta.url; // lets worker threads and processes load this class
  count = 0;

  receiveMessage(message, sender) {
    if (typeof message === 'string') this.send(sender, `hello, ${message} (#${++this.count})`);
  }
}

const system = await ActorSystem.start();
try {
  const greeter = await system.createActor(Greeter);
  console.log(await system.ask(greeter, 'world', 2000));
  console.log(await system.ask(greeter, 'thespis', 2000));
  const status = await system.status();
  console.log(`base: ${status.base}, actors: ${status.actors}, threads: ${status.threads}`);
} finally {
  await system.shutdown();
}
