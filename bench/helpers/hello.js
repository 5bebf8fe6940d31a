// Says one word as soon as it runs, on whatever channel it was started with:
// the first-message mark for the startup peers.
import { parentPort } from 'node:worker_threads';

if (parentPort) parentPort.postMessage('up');
else if (process.send) process.send('up', () => process.disconnect());
else process.stdout.write('up');
