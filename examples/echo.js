// `npm start`: a first actor on the default base (worker threads).
import { ActorSystem } from 'thespis';
import { Greeter } from './greeter.js';

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
