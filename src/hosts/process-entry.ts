/**
 * The main module of a spawned process kernel (`startup: 'spawn'`):
 * `node process-entry.js <boot JSON>`. It connects back to the system's
 * Unix socket and runs the kernel there.
 */
import { connect } from 'node:net';
import { runProcessKernel } from './process-kernel.js';
import type { ProcessBoot } from './process-protocol.js';

const boot = JSON.parse(process.argv[2] ?? '') as ProcessBoot;
runProcessKernel(boot, connect(boot.socketPath), (code) => process.exit(code));
