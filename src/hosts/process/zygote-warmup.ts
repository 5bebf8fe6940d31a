/**
 * Before a zygote says it is ready, it runs one actor through a real process
 * kernel, against a stand-in for the system on a socket pair of its own:
 * create, a message each way, exit. V8 compiles functions on first call, so
 * without this every forked child would compile the kernel, codec and socket
 * paths again (measured: ~10 ms per child); after it, children inherit the
 * compiled code and start in a few milliseconds. Everything it opens is
 * closed before the first fork.
 */
// The whole public runtime, so a child imports only its actor's own module.
import { ActorAddress, ActorExitRequest } from '../../index.js';
import { FrameKind } from '../../core/protocol.js';
import { Channel } from '../../transport/channel.js';
import { DEFAULT_LIMITS } from '../../transport/codec/codec.js';
import { requireNative } from '../../native.js';
import { envelopeFdCount, openEnvelope } from '../../transport/envelope.js';
import { FdLink } from '../../transport/fd-link.js';
import { runProcessKernel } from './process-kernel.js';
import { readHello } from './process-protocol.js';

/** Loaded by the warm-up kernel only, like a user's actor (see zygote-warmup-actor.ts). */
const WARMUP_MODULE = new URL('./zygote-warmup-actor.js', import.meta.url).href;
const MAIN = 'warmup:main';
const CHILD = 'warmup:p1';

/** The warm-up a spare runs, after the fork: see zygote-entry.ts, becomeChild. */
export function warmUpSpare(): Promise<void> {
  return warmUp(`${WARMUP_MODULE}?spare`);
}

/**
 * `module`: the actor's module URL. A spare (spare-process.ts) warms up again
 * in its own memory, with a URL the loader has not seen (so the module is
 * resolved, read and compiled again, as a user's will be).
 */
export async function warmUp(module = WARMUP_MODULE): Promise<void> {
  const [system, child] = requireNative('fork').socketPair();
  const left = new Promise<void>((resolve) => {
    runProcessKernel(
      { kernelId: CHILD, mainKernelId: MAIN, admin: { kernel: MAIN, id: `${MAIN}.admin` }, capabilities: {}, startup: 'spawn', processPerActor: false, linkFd: child },
      () => resolve(),
    );
  });
  await exchange(system, module);
  await left;
}

/** The stand-in system: create the actor, ask it once, ask it to exit, retire the process (ControlOp 'retire'). */
function exchange(fd: number, module: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const me = new ActorAddress(MAIN, `${MAIN}.1`);
    const actor = new ActorAddress(CHILD, `${MAIN}.2`);
    const link = new FdLink(fd, DEFAULT_LIMITS.maxFrameBytes, envelopeFdCount, {
      onRecord: (record, fds) => {
        const envelope = openEnvelope(record);
        if (envelope === null || readHello(record) !== null) return;
        for (const frame of channel.receive(envelope.payload, fds)) {
          if (frame[0] === FrameKind.Message && typeof frame[3] === 'object' && frame[3] !== null && 'echo' in frame[3]) {
            channel.send([FrameKind.Message, actor, me, new ActorExitRequest()]);
          } else if (frame[0] === FrameKind.Control && frame[1].op === 'retire') {
            channel.send([FrameKind.Control, { op: 'drained' }]);
          } else if (frame[0] === FrameKind.Control && frame[1].op === 'retired') {
            void link.end();
          }
        }
      },
      onClosed: (error) => (error ? reject(error) : resolve()),
    });
    const channel = new Channel(CHILD, MAIN, (envelope, fds) => link.write(envelope, fds));
    channel.send([FrameKind.Create, { address: actor, parent: me, spec: { module, exportName: 'WarmupActor' }, ack: me }]);
    channel.send([FrameKind.Message, actor, me, 'ping']);
  });
}
