/**
 * Booting a runtime over a pair of pipes: start a command whose last word is
 * `node -e '<first stage>'`, send the compressed runtime down the link at
 * once (no round trip: the bytes wait in the pipe while ssh, sudo or node
 * start), and wait for the ready marker coming back.
 *
 * The first stage (firstStage) is the whole command line the target runs:
 * under 1 KiB, it reads a 4-byte length and that many bytes of a deflated
 * payload from stdin with blocking reads (no stream, so nothing of node's
 * net and stream modules loads before the runtime needs them), and runs the
 * stage 2 code at its head, which evaluates the runtime from memory (nothing
 * is written to disk, and no second `node` starts; runtime-pack.ts). Stage 2
 * prints the `ready` marker once the kernel is up; it carries a random
 * per-boot token, so no banner or junk printed before can fake it. Output
 * before the marker is kept and shown if the boot fails. After `ready` the
 * link carries framed envelopes.
 *
 * The link is the command's stdin and stdout, or (`linkOnFd3`, for sudo and
 * su, methods.ts) a socket the command gets as fd 3 and hands to node as its
 * stdin and stdout, while its own stdin and stdout are a terminal (`script`)
 * on which a password prompt is answered, or pipes no payload goes through.
 *
 * Failure: the command exits, or `connectTimeoutMs` passes, before `ready`:
 * the process is ended (stdin closed, SIGTERM, then SIGKILL) and reaped, and
 * the boot rejects with a RemoteBootError that quotes what it printed.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { lazyBuiltin } from '../loader/lazy-builtin.js';
import { RemoteBootError } from './errors.js';

const childProcess = lazyBuiltin<typeof import('node:child_process')>('node:child_process');
const crypto = lazyBuiltin<typeof import('node:crypto')>('node:crypto');

/**
 * The first stage, evaluated by `node -e` as a CommonJS script. Blocking
 * reads of fd 0: a stdin left non-blocking by whoever started node (EAGAIN)
 * is polled every 5 ms instead. Stage 2 is the payload's first segment.
 */
export function firstStage(): string {
  return (
    'const f=require("fs"),r=n=>{const b=Buffer.allocUnsafe(n);for(let h=0,k;h<n;h+=k){try{k=f.readSync(0,b,h,n-h)}' +
    'catch(e){if(e.code!="EAGAIN")throw e;Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,5);k=0;continue}' +
    'if(!k){f.writeSync(2,"thespis: the runtime did not arrive\\n");process.exit(1)}}return b},' +
    'p=require("zlib").inflateRawSync(r(r(4).readUInt32BE(0)));' +
    'new Function("p","require",p.toString("latin1",4,4+p.readUInt32BE(0)))(p,require)'
  );
}

export function newToken(): string {
  return crypto().randomBytes(12).toString('hex');
}

/** The line a booted host prints when its kernel is up. */
export function readyMarker(token: string): string {
  return `\nTHESPIS:${token}:ready\n`;
}

export interface BootOptions {
  /** The command and its arguments (the last ones run the first stage). */
  argv: string[];
  /** The framed, deflated runtime payload (length prefix included). */
  payload: Uint8Array;
  token: string;
  /** What the host is called in errors. */
  name: string;
  timeoutMs: number;
  /** Answered once to a password prompt; a second prompt fails the boot. */
  password?: string;
  /** A prompt to watch for (sudo's own, or su's "Password:"). */
  prompt?: RegExp;
  /** The link is a socket the command gets as fd 3; its stdin and stdout are where prompts are answered. */
  linkOnFd3: boolean;
  /** Why it failed when the command itself is not found (a helper such as `script`). */
  missing?: string;
  env?: NodeJS.ProcessEnv;
  /** Aborting ends the boot as a timeout does (the system is shutting down). */
  signal?: AbortSignal;
}

export interface Booted {
  child: ChildProcess;
  /** The link's bytes from the host, and to it (one socket when the link is on fd 3). */
  input: Readable;
  output: Writable;
  /** Bytes read after the ready marker: the start of the link. */
  leftover: Buffer;
  /** What the host prints for people (stderr, and the terminal when there is one), paused: resume to read. */
  logs: Readable[];
}

const KEEP_OUTPUT = 8192;

/** Starts `argv` and boots the runtime in it; rejects with RemoteBootError after ending and reaping it. */
export function bootstrap(options: BootOptions): Promise<Booted> {
  const { argv, token, name, linkOnFd3 } = options;
  const ready = Buffer.from(readyMarker(token));
  return new Promise<Booted>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = childProcess().spawn(argv[0]!, argv.slice(1), { stdio: linkOnFd3 ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'], env: options.env });
    } catch (error) {
      reject(new RemoteBootError(`${name}: cannot start ${argv[0]}: ${(error as Error).message}`, ''));
      return;
    }
    const input = (linkOnFd3 ? child.stdio[3] : child.stdout) as Readable;
    const output = (linkOnFd3 ? child.stdio[3] : child.stdin) as Writable;
    /** Where prompts show besides stderr: the terminal, when the link is elsewhere. */
    const talk = linkOnFd3 ? child.stdout! : null;
    let seen: Buffer = Buffer.alloc(0); // link bytes not yet past the marker
    let junk = ''; // what the link carried before the marker (tail kept)
    let talkText = '';
    let errText = '';
    let promptText = ''; // printed since the last prompt answered
    let answered = false;
    let done = false;
    const keep = (text: string, add: string): string => (text + add).slice(-KEEP_OUTPUT);
    const printed = (): string =>
      [(junk + seen.toString('utf8')).trim(), talkText.replace(/\r/g, '').trim(), errText.trim()].filter((s) => s !== '').join('\n');
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', aborted);
      const error = new RemoteBootError(`${name}: ${why}`, printed());
      endChild(child).then(() => reject(error));
    };
    const timer = setTimeout(() => fail(`did not boot within ${options.timeoutMs} ms`), options.timeoutMs);
    const aborted = (): void => fail('the boot was abandoned (the system is shutting down)');
    if (options.signal?.aborted === true) queueMicrotask(aborted);
    options.signal?.addEventListener('abort', aborted, { once: true });
    const prompted = (text: string): void => {
      if (options.prompt === undefined || done) return;
      promptText = (promptText + text).slice(-256);
      if (!options.prompt.test(promptText)) return;
      promptText = '';
      if (options.password === undefined) return fail('asks for a password and none was given');
      if (answered) return fail('the password was refused');
      answered = true;
      child.stdin!.write(`${options.password}\n`);
    };
    const onInput = (chunk: Buffer): void => {
      if (done) return;
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const at = seen.indexOf(ready);
      if (at >= 0) {
        junk = keep(junk, seen.subarray(0, at).toString('utf8'));
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', aborted);
        input.off('data', onInput);
        input.pause();
        talk?.off('data', onTalk);
        talk?.pause();
        child.stderr!.off('data', onStderr);
        child.stderr!.pause();
        child.off('exit', onExit);
        child.off('error', onError);
        resolve({ child, input, output, leftover: seen.subarray(at + ready.length), logs: talk === null ? [child.stderr!] : [child.stderr!, talk] });
        return;
      }
      // Keep only what could be the start of the marker; the rest is junk.
      if (seen.length > ready.length) {
        junk = keep(junk, seen.subarray(0, seen.length - ready.length).toString('utf8'));
        seen = seen.subarray(seen.length - ready.length);
      }
    };
    const onTalk = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      talkText = keep(talkText, text);
      prompted(text);
    };
    const onStderr = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      errText = keep(errText, text);
      prompted(text);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      // What it printed last may still be in the pipes: read it first (briefly).
      const grace = setTimeout(report, 500);
      child.once('close', report);
      function report(): void {
        clearTimeout(grace);
        const missing = code === 127 || /node: (command )?not found|No such file or directory/.test(errText + talkText);
        fail(missing ? `node was not found (exited with ${how})` : `exited with ${how} before it was ready`);
      }
    };
    const onError = (error: Error & { code?: string }): void =>
      fail(
        error.code !== 'ENOENT'
          ? `cannot start ${argv[0]}: ${error.message}`
          : (options.missing ?? `${argv[0]} was not found (node was not found)`),
      );
    input.on('data', onInput);
    talk?.on('data', onTalk);
    child.stderr!.on('data', onStderr);
    child.stdin!.on('error', () => undefined); // EPIPE when it died: reported by exit
    output.on('error', () => undefined);
    child.once('exit', onExit);
    child.once('error', onError);
    output.write(options.payload);
  });
}

/** Ends a child: stdin closed, SIGTERM, SIGKILL after a grace; resolves once it is reaped. */
export function endChild(child: ChildProcess, graceMs = 1000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.stdin?.destroy();
    child.kill('SIGTERM');
  });
}
