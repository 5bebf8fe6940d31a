/** Kernel ids for new processes, made without asking anyone (placement is synchronous). */
import { randomBytes } from 'node:crypto';

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
