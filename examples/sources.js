// Loadable sources: the system takes new actor code while it runs, once its
// source authority has validated it. Run: node examples/sources.js
import { fileURLToPath } from 'node:url';
import { ActorSystem } from 'thespis';
import { SmallSources } from './small-sources.js';

const system = await ActorSystem.start({ logLevel: 'info', logger: (r) => console.log(`[${r.level}] ${r.message}`) });
try {
  await system.createActor(SmallSources);                                   // registers itself as the authority
  const plugin = fileURLToPath(new URL('./plugins/billing', import.meta.url));
  const hash = await system.loadActorSource(plugin);                        // a directory, .zip or .tgz
  console.log(`loaded ${plugin} as ${hash}`);

  const biller = await system.createActor('billing.js#Biller', { sourceHash: hash }); // waits for the validation
  console.log('biller answered', await system.ask(biller, { amount: 40 }, 5000));

  await system.unloadActorSource(hash);                                     // no new creates; biller keeps running
  console.log('after unload, biller still answers', await system.ask(biller, { amount: 4 }, 5000));
  await system.createActor('billing.js#Biller', { sourceHash: hash }).catch((error) => console.log(`${error.name}: ${error.message}`));
} finally {
  await system.shutdown();
}
