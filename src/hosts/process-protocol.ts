/** What the system process, its zygotes and its process kernels tell each other outside kernel frames. */
import type { Capabilities } from '../core/capabilities.js';

export type Startup = 'spawn' | 'fork' | 'forkserver';

/** Everything a process kernel needs to start (argv for spawn, the fork command for forked ones). */
export interface ProcessBoot {
  kernelId: string;
  mainKernelId: string;
  admin: { kernel: string; id: string };
  capabilities: Capabilities;
  /** How actors this process creates in processes of their own start. */
  startup: Startup;
  /** Whether an actor created here with no `host` gets a process of its own (the processes base). */
  processPerActor: boolean;
  /** The system's Unix socket to connect back to, and the token that proves who is connecting. */
  socketPath: string;
  token: string;
}

/** The first record a process kernel sends on its connection. */
export interface Hello {
  kernelId: string;
  token: string;
}

/** System process → zygote, one JSON line each, on the zygote's fd 3. */
export type ZygoteCommand =
  | { cmd: 'fork'; id: number; boot: ProcessBoot; preload?: string }
  | { cmd: 'stop' };

/** Zygote → system process, one JSON line each. */
export type ZygoteEvent =
  | { event: 'ready' }
  | { event: 'forked'; id: number; pid: number }
  | { event: 'failed'; id: number; error: string }
  | { event: 'exit'; pid: number; code: number | null; signal: string | null };

/** Largest hello or boot record; anything longer is not one of ours. */
export const MAX_HELLO_BYTES = 4096;

/** Calls `handle` with each JSON line `stream` carries (the zygote's control pipe, both ends). */
export function readJsonLines<T>(stream: NodeJS.ReadableStream, handle: (message: T) => void): void {
  let input = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    input += chunk;
    let newline: number;
    while ((newline = input.indexOf('\n')) >= 0) {
      const line = input.slice(0, newline);
      input = input.slice(newline + 1);
      if (line !== '') handle(JSON.parse(line) as T);
    }
  });
}
