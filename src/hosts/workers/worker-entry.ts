/**
 * Runs inside each worker thread: one kernel, linked to the main thread and
 * to every other pool thread by SAB rings. Frames for kernels it has no link
 * to go through the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ActorAddress } from '../../address.js';
import { Kernel, type KernelHost } from '../../core/kernel.js';
import type { LogRecord } from '../../core/log.js';
import { FrameKind, type Frame } from '../../core/protocol.js';
import { HostBasics } from '../host-basics.js';
import { choosePoolKernel, countOn, type PoolView } from './placement.js';
import { requestProcessKernel } from '../process/process-ids.js';
import { connectThread, Router } from '../router.js';
import type { MainToWorker, PeerInfo, WorkerBoot } from './worker-protocol.js';

const boot = workerData as WorkerBoot;
const router = new Router();
const pool: PoolView = { loads: new Int32Array(boot.loads), slots: [...boot.slots] };
let dedicatedSeq = 0;

class WorkerHost extends HostBasics implements KernelHost {
  sendFrame(kernelId: string, frame: Frame): boolean {
    return router.send(kernelId, frame);
  }

  place(request: Parameters<KernelHost['place']>[0]): string {
    if (request.options.host === 'process') {
      return requestProcessKernel(request, boot.kernelId, boot.startup, (frame) => router.send(boot.mainKernelId, frame));
    }
    if (request.options.dedicated) {
      const kernelId = `${boot.kernelId}~d${++dedicatedSeq}`;
      router.send(boot.mainKernelId, [FrameKind.Control, { op: 'spawnKernel', kernelId }]);
      return kernelId;
    }
    if (request.options.host === 'inline') {
      countOn(pool, boot.slot);
      return boot.kernelId;
    }
    return choosePoolKernel(pool, request.spread ? -1 : boot.slot, kernel.dispatcher.backlog) ?? boot.kernelId;
  }

  log(record: LogRecord): void {
    kernel.admin({ op: 'log', record });
  }

  uncounted(): void {
    if (boot.slot >= 0) Atomics.sub(pool.loads, boot.slot, 1);
  }

  routesDirect(kernelId: string): boolean {
    return router.routesDirect(kernelId);
  }

  pendingInLinks(): number {
    return router.pending();
  }
}

const kernel = new Kernel(boot.kernelId, new WorkerHost(), new ActorAddress(boot.admin.kernel, boot.admin.id), boot.capabilities);
router.congestion = kernel.flow.congestion;

function connect(peer: PeerInfo): void {
  const link = connectThread(kernel, router, peer.kernelId, peer.rings);
  if (peer.kernelId === boot.mainKernelId) router.setDefault(link);
}

for (const peer of boot.peers) connect(peer);

parentPort!.on('message', (message: MainToWorker) => {
  switch (message.type) {
    case 'peer':
      if (message.slot >= 0) pool.slots[message.slot] = message.peer.kernelId;
      connect(message.peer);
      return;
    case 'down':
      if (message.slot >= 0 && pool.slots[message.slot] === message.kernelId) pool.slots[message.slot] = '';
      for (const frame of router.remove(message.kernelId)) kernel.undeliverable(frame);
      kernel.kernelDown(message.kernelId);
      return;
    case 'stop':
      kernel.close();
      router.closeAll();
      parentPort!.close();
      return;
  }
});
parentPort!.postMessage({ type: 'ready' });
