/** The runtime a remote host runs (bundled into dist/remote/runtime.cjs): the actor-side surface and runRemote. */
export * from '../remote-surface.js';
export { runRemote } from './remote-main.js';
