/**
 * Booting a runtime over a pair of pipes: start a command whose last word is
 * `node -e '<first stage>'`, send the compressed runtime down its stdin at
 * once (no round trip: the bytes wait in the pipe while ssh, sudo or node
 * start), and wait for the ready marker on its stdout.
 *
 * The first stage (firstStage) is the whole command line the target runs:
 * under 1 KiB, it reads a 4-byte length and that many bytes of deflated
 * JSON from stdin, and runs the stage 2 code inside them, which evaluates the
 * runtime from memory (nothing is written to disk, and no second `node`
 * starts). It first prints a `want` marker (so a parent answering a password
 * prompt knows when the runtime may go), stage 2 prints the `ready` marker
 * once the kernel is up; both carry a random per-boot token, so no banner or
 * junk printed before can fake them. Output before the markers is kept and
 * shown if the boot fails. After `ready` the pipes carry framed envelopes.
 *
 * Failure: the command exits, or `connectTimeoutMs` passes, before `ready`:
 * the process is ended (stdin closed, SIGTERM, then SIGKILL) and reaped, and
 * the boot rejects with a RemoteBootError that quotes what it printed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { RemoteBootError } from './errors.js';

/** The first stage for a boot with `token`. Evaluated by `node -e` as a CommonJS script. */
export function firstStage(token: string): string {
  return (
    `const T="${token}",f=require("fs"),i=process.stdin;f.writeSync(1,"\\nTHESPIS:"+T+":want\\n");` +
    `let b=Buffer.alloc(0);const e=()=>{f.writeSync(2,"thespis: the runtime did not arrive\\n");process.exit(1)};i.once("end",e);` +
    `i.on("data",function g(d){b=Buffer.concat([b,d]);if(b.length<4)return;const n=b.readUInt32BE(0);if(b.length<4+n)return;` +
    `i.off("data",g);i.off("end",e);i.pause();const p=JSON.parse(require("zlib").inflateRawSync(b.subarray(4,4+n)));` +
    `new Function("p","rest","require",p.stage2)(p,b.subarray(4+n),require)})`
  );
}

export function newToken(): string {
  return randomBytes(12).toString('hex');
}

export function marker(token: string, what: 'want' | 'ready'): string {
  return `\nTHESPIS:${token}:${what}\n`;
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
  /** Wait for the `want` marker (or a prompt) before sending the runtime. */
  waitForWant: boolean;
  env?: NodeJS.ProcessEnv;
  /** Aborting ends the boot as a timeout does (the system is shutting down). */
  signal?: AbortSignal;
}

export interface Booted {
  child: ChildProcess;
  /** Bytes read after the ready marker: the start of the link. */
  leftover: Buffer;
}

const KEEP_OUTPUT = 8192;

/** Starts `argv` and boots the runtime in it; rejects with RemoteBootError after ending and reaping it. */
export function bootstrap(options: BootOptions): Promise<Booted> {
  const { argv, token, name } = options;
  const want = Buffer.from(marker(token, 'want'));
  const ready = Buffer.from(marker(token, 'ready'));
  return new Promise<Booted>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: options.env });
    } catch (error) {
      reject(new RemoteBootError(`${name}: cannot start ${argv[0]}: ${(error as Error).message}`, ''));
      return;
    }
    let seen: Buffer = Buffer.alloc(0); // stdout not yet past a marker
    let junk = ''; // what was printed before the markers (tail kept)
    let errText = '';
    let sentPayload = false;
    let answered = false;
    let done = false;
    const keep = (text: string, add: string): string => (text + add).slice(-KEEP_OUTPUT);
    const output = (): string => [(junk + seen.toString('utf8')).trim(), errText.trim()].filter((s) => s !== '').join('\n');
    const sendPayload = (): void => {
      if (sentPayload) return;
      sentPayload = true;
      child.stdin!.write(options.payload);
    };
    const fail = (why: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', aborted);
      const error = new RemoteBootError(`${name}: ${why}`, output());
      endChild(child).then(() => reject(error));
    };
    const timer = setTimeout(() => fail(`did not boot within ${options.timeoutMs} ms`), options.timeoutMs);
    const aborted = (): void => fail('the boot was abandoned (the system is shutting down)');
    if (options.signal?.aborted === true) queueMicrotask(aborted);
    options.signal?.addEventListener('abort', aborted, { once: true });
    const prompted = (text: string): void => {
      if (options.prompt === undefined || !options.prompt.test(text)) return;
      if (options.password === undefined) return fail(`asks for a password and none was given`);
      if (answered) return fail('the password was refused');
      answered = true;
      child.stdin!.write(`${options.password}\n`);
    };
    const onStdout = (chunk: Buffer): void => {
      if (done) return;
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      if (!sentPayload) {
        const at = seen.indexOf(want);
        if (at >= 0) {
          junk = keep(junk, seen.subarray(0, at).toString('utf8'));
          seen = seen.subarray(at + want.length);
          sendPayload();
        }
      }
      const at = seen.indexOf(ready);
      if (at >= 0) {
        junk = keep(junk, seen.subarray(0, at).toString('utf8'));
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', aborted);
        child.stdout!.off('data', onStdout);
        child.stderr!.off('data', onStderr);
        child.stdout!.pause();
        child.off('exit', onExit);
        child.off('error', onError);
        resolve({ child, leftover: seen.subarray(at + ready.length) });
        return;
      }
      // Keep only what could be the start of a marker; the rest is junk.
      const spare = Math.max(want.length, ready.length);
      if (seen.length > spare) {
        const text = seen.subarray(0, seen.length - spare).toString('utf8');
        junk = keep(junk, text);
        seen = seen.subarray(seen.length - spare);
        if (!sentPayload) prompted(text + seen.toString('utf8'));
      } else if (!sentPayload) prompted(seen.toString('utf8'));
    };
    const onStderr = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      errText = keep(errText, text);
      if (!sentPayload) prompted(errText.slice(-200));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      const how = signal !== null ? `signal ${signal}` : `code ${code}`;
      // What it printed last may still be in the pipes: read it first (briefly).
      const grace = setTimeout(report, 500);
      child.once('close', report);
      function report(): void {
        clearTimeout(grace);
        const missing = code === 127 || /node: (command )?not found|No such file or directory/.test(errText);
        fail(missing ? `node was not found (exited with ${how})` : `exited with ${how} before it was ready`);
      }
    };
    const onError = (error: Error & { code?: string }): void =>
      fail(error.code === 'ENOENT' ? `${argv[0]} was not found (node was not found)` : `cannot start ${argv[0]}: ${error.message}`);
    child.stdout!.on('data', onStdout);
    child.stderr!.on('data', onStderr);
    child.stdin!.on('error', () => undefined); // EPIPE when it died: reported by exit
    child.once('exit', onExit);
    child.once('error', onError);
    if (!options.waitForWant) sendPayload();
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
