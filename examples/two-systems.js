// Two systems on the network: a leader, and a member that has a GPU. The
// leader creates an actor that requires a GPU; placement puts it on the
// member, and the leader talks to it as to any actor. A client then
// connects to the member's admin port and uses the same actor.
// Run: node examples/two-systems.js
import { ActorSystem } from 'thespis';
import { Trainer } from './trainer.js';

const secret = 'a secret shared by the convention';
const leader = await ActorSystem.start({ admin: { port: 0 }, secret, capabilities: { role: 'leader' } });
const member = await ActorSystem.start({
  admin: { port: 0 },
  convention: { leader: leader.adminAddress },
  secret,
  capabilities: { gpu: true },
});
try {
  console.log(`leader at ${leader.adminAddress}, member at ${member.adminAddress}`);
  // start() does not wait to join: wait until the leader lists the member.
  while ((await leader.status()).convention.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));

  const trainer = await leader.createActor(Trainer);
  const reply = await leader.ask(trainer, 'model-1', 5000);
  console.log(`${String(trainer)} answered`, reply, `(member is ${member.systemId})`);

  const client = await ActorSystem.connect(member.adminAddress, { secret });
  console.log('through a client:', await client.ask(trainer, 'model-2', 5000));
  console.log('members:', (await client.status()).convention.map((m) => `${m.adminAddress}${m.leader ? ' (leader)' : ''}`).join(', '));
  await client.close();
} finally {
  await member.shutdown();
  await leader.shutdown();
}
