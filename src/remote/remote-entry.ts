/** The runtime a remote host runs (bundled into dist/remote/runtime.cjs): the package surface and runRemote. */
export * from '../index.js';
export { runRemote } from './remote-main.js';
