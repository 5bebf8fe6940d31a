/**
 * The main module of a spawned process kernel (`startup: 'spawn'`):
 * `node process-entry.js <boot JSON>`. Its link to the system's process is
 * the socket it inherited as fd 3 (with the addon), or a connection back to
 * the system's Unix socket (without).
 */
import { runProcessKernel } from './process-kernel.js';
import type { ProcessBoot } from './process-protocol.js';

const boot = JSON.parse(process.argv[2] ?? '') as ProcessBoot;
runProcessKernel(boot, (code) => process.exit(code));
