// A thespis system in a process of its own, for the network figures:
//   node net-system.js '<ActorSystem.start options as JSON>'
// Prints {"adminAddress","pid","systemId","startingMs"} as its first line
// (startingMs: the wall clock, at sub-millisecond resolution, just before
// ActorSystem.start was called); shuts down when stdin closes or on SIGTERM.

import { ActorSystem } from 'thespis';

const options = JSON.parse(process.argv[2] ?? '{}');
const startingMs = performance.timeOrigin + performance.now();
const system = await ActorSystem.start({ ...options, logLevel: 'error' });
process.stdout.write(`${JSON.stringify({ adminAddress: system.adminAddress, pid: process.pid, systemId: system.systemId, startingMs })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  system.shutdown().then(() => process.exit(0), () => process.exit(1));
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
