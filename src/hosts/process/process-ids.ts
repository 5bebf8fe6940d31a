/** Kernel ids for new processes, made without asking anyone (placement is synchronous). */
import { randomBytes } from 'node:crypto';
import type { PlacementRequest } from '../../core/kernel.js';
import { FrameKind, type Frame } from '../../core/protocol.js';
import type { Startup } from './process-protocol.js';
import { checkStartup } from '../startup.js';

/**
 * `<system>:p<random>`: unique without coordination and of constant length
 * however deep the tree of process actors grows (ids travel in every
 * envelope header and inside every actor id). crypto's generator is safe in
 * a forked child (OpenSSL reseeds when the pid changes); Math.random is not.
 */
export function newProcessKernelId(anyKernelIdOfTheSystem: string): string {
  const system = anyKernelIdOfTheSystem.slice(0, anyKernelIdOfTheSystem.indexOf(':'));
  return `${system}:p${randomBytes(6).toString('hex')}`;
}

/**
 * Placement in a new process, from a kernel that cannot start one itself (a
 * worker thread, a process): asks the system's thread with `toMain` and
 * returns the new kernel's id at once; frames for it wait there until it connects.
 */
export function requestProcessKernel(request: PlacementRequest, ownKernelId: string, fallback: Startup, toMain: (frame: Frame) => void): string {
  const startup = checkStartup(request.options.startup, fallback);
  const kernelId = newProcessKernelId(ownKernelId);
  toMain([FrameKind.Control, { op: 'spawnKernel', kernelId, startup, preload: request.spec.ref?.module }]);
  return kernelId;
}
