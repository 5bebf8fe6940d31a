// Membership and placement across systems. The suite's process runs a leader
// (base `inline`, admin port on loopback, default heartbeatMs/deadAfterMs)
// with a Watcher actor subscribed to convention updates; members are systems
// in child processes of their own (helpers/net-system.js).
//
// - join: from just before ActorSystem.start in the new member's process to
//   the leader's Watcher receiving its update (wall clock, both processes).
// - create_remote: system.createActor(Echo) whose requirement only one member
//   meets (one member, so every create after the untimed first finds Echo's
//   module loaded there, as in a running convention), placed there, to Echo's
//   first reply to an ask.
// - detect_kill: kill -9 of a member until the Watcher has its removal.

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { members, spawnSystem, wallMs } from '../helpers/net.js';
import { median } from '../lib/stats.js';
import { now } from '../lib/measure.js';

const JOIN = 'convention.join_ms';
const CREATE = 'convention.create_remote_ms';
const KILL = 'convention.detect_kill_ms';
const CREATE_HERE = { requirements: { benchCreate: true } };

/** The next update from the Watcher about `address` with `added`. */
async function updateFor(endpoint, address, added, timeoutMs) {
  for (;;) {
    const update = await endpoint.listen(timeoutMs);
    if (update?.address === address && update.added === added) return update;
  }
}

export default {
  figures: [JOIN, CREATE, KILL],
  compare: [
    { figure: CREATE, against: 'process.start.forkserver_ms' },
  ],
  timeoutMs: { full: 180_000, quick: 40_000 },
  async run(ctx) {
    const Watcher = await actorClass(ctx, 'watcher', 'Watcher');
    const Echo = await actorClass(ctx, 'echo', 'Echo');
    await withSystem(ctx, { base: 'inline', admin: { port: 0 } }, async (leader) => {
      const watching = leader.private();
      const watcher = await createActor(ctx, leader, Watcher);
      await watching.ask(watcher, 'watch', 10_000);
      const started = [];
      try {
        await ctx.part([JOIN], async () => {
          const joins = [];
          const count = ctx.pick(7, 2);
          for (let i = 0; i <= count; i++) {
            const member = await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: leader.adminAddress } });
            started.push(member);
            const update = await updateFor(watching, member.adminAddress, true, 15_000);
            if (i > 0) joins.push(update.at - member.startingMs); // the first one warms the leader up
          }
          ctx.report(JOIN, median(joins), 'ms');
        });

        await ctx.part([CREATE], async () => {
          started.push(await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: leader.adminAddress }, capabilities: { benchCreate: true } }));
          await members(leader, started.length + 1);
          const times = [];
          const count = ctx.pick(7, 3);
          for (let i = 0; i <= count; i++) {
            const t0 = now();
            const echo = await leader.createActor(Echo, CREATE_HERE);
            await leader.ask(echo, 'hello', 10_000);
            if (i > 0) times.push(now() - t0);
          }
          ctx.report(CREATE, median(times), 'ms');
        });

        await ctx.part([KILL], async () => {
          const victim = started.pop() ?? (await spawnSystem({ base: 'inline', admin: { port: 0 }, convention: { leader: leader.adminAddress } }));
          await members(leader, started.length + 2);
          const t0 = wallMs();
          victim.child.kill('SIGKILL');
          const update = await updateFor(watching, victim.adminAddress, false, 20_000);
          ctx.report(KILL, update.at - t0, 'ms');
          await victim.exited;
        });
      } finally {
        await Promise.all(started.map((member) => member.stop()));
      }
    });
  },
};
