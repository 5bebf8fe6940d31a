/**
 * Loads the thespis C++ addon (build/Release/thespis.node) and says clearly
 * what is missing when it is not built. Everything that needs it goes through
 * `requireNative(feature)`, or checks `native` and falls back.
 *
 * `THESPIS_NO_NATIVE=1` makes the addon count as missing, so the pure-JS
 * fallbacks can be exercised on a machine where it is built.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NativeAddonMissingError } from './errors.js';

/** The ABI this file was written against; bumped with native/addon.cc. */
const EXPECTED_ABI = 5;

/** Incremental length-prefixed frame parser (native/framing.cc). */
export interface AddonFramer {
  readonly maxFrameBytes: number;
  /** Stream bytes taken in that belong to a frame not yet complete. */
  readonly bufferedBytes: number;
  /**
   * Complete frames found so far. A frame wholly inside `chunk` is a view of
   * it (do not reuse `chunk` afterwards); a frame that straddled chunks is a
   * fresh buffer. Throws an Error with `code: 'ERR_FRAME_TOO_LARGE'` when a
   * header declares more than `maxFrameBytes`; the framer then stays failed.
   */
  push(chunk: Uint8Array): Uint8Array[];
}

export interface AddonFramerConstructor {
  new (maxFrameBytes: number): AddonFramer;
}

/** What `recvFds` read: `data` empty and no `fds` means end of stream. */
export interface ReceivedFds {
  data: Uint8Array;
  /** Close-on-exec descriptors now owned by the caller. */
  fds: number[];
  /** Some descriptors that came were closed (beyond `maxFds`) or dropped. */
  truncated: boolean;
}

/** What `recvFdsInto` read: `bytes` 0 and no `fds` means end of stream. */
export interface ReceivedInto {
  bytes: number;
  fds: number[];
  truncated: boolean;
}

/** Readiness of a raw fd on this thread's event loop (uv_poll). */
export interface FdWatcher {
  /** Arm for `FdWatcher.READABLE | FdWatcher.WRITABLE`; armed, it keeps itself alive. */
  start(events: number): void;
  stop(): void;
  /** Stop for good; the fd stays open (it is the caller's). */
  close(): void;
  ref(): void;
  unref(): void;
}

export interface FdWatcherConstructor {
  /** `status` is 0 or a negative libuv error code; `events` a mask of the constants. */
  new (fd: number, callback: (this: FdWatcher, status: number, events: number) => void): FdWatcher;
  readonly READABLE: number;
  readonly WRITABLE: number;
  readonly DISCONNECT: number;
}

export interface ForkOptions {
  /** Signal number (e.g. `os.constants.signals.SIGKILL`) sent to the child when the parent dies. */
  parentDeathSignal?: number;
  /** `setsid()` in the child. */
  newSession?: boolean;
  /** `setpgid(0, 0)` in the child (ignored with `newSession`, which implies it). */
  newProcessGroup?: boolean;
}

/** How a forked child ended, as Node reports it for spawned ones. */
export interface ChildExit {
  pid: number;
  /** Exit code, or null when a signal ended it (or the status was lost). */
  code: number | null;
  /** Signal name such as `'SIGKILL'`, or null. */
  signal: NodeJS.Signals | null;
}

export interface NativeAddon {
  readonly abiVersion: number;

  // framing (native/framing.cc): 4-byte big-endian length, then the payload.
  readonly Framer: AddonFramerConstructor;
  /** All frames, each with its header, in one new buffer (one write per batch). */
  encodeFrames(frames: readonly Uint8Array[]): Uint8Array;
  readonly frameHeaderBytes: number;

  // fd passing (native/fdpass.cc, native/fdwatch.cc)
  /** A connected AF_UNIX stream pair, non-blocking and close-on-exec. */
  socketPair(): [number, number];
  /**
   * Bytes sent (the fds ride with the first byte), or -1 when the socket would
   * block. Throws an Error with an errno `code` (e.g. 'EPIPE') on failure.
   */
  /** Bytes sent (one sendmsg; `data` as one buffer or several in order), or -1 when the socket would block. */
  sendFds(socketFd: number, data: Uint8Array | readonly Uint8Array[], fds: readonly number[]): number;
  /** null when the socket would block. */
  recvFds(socketFd: number, maxBytes: number, maxFds: number): ReceivedFds | null;
  /** Like recvFds, into `target` from its start; null when the socket would block. */
  recvFdsInto(socketFd: number, target: Uint8Array, maxFds: number): ReceivedInto | null;
  /** A close-on-exec duplicate of `fd` (the same open file, a descriptor of its own). */
  dupFd(fd: number): number;
  /** `shutdown(fd, SHUT_WR)`: the peer reads end of stream; reading goes on. */
  shutdownWrite(fd: number): void;
  /**
   * The socket's send buffer (SO_SNDBUF, as the kernel counts it) before the
   * call; then asks for `bytes` (0: only reads it). Linux doubles what is
   * asked and caps it at twice net.core.wmem_max.
   */
  setSendBuffer(fd: number, bytes: number): number;
  readonly FdWatcher: FdWatcherConstructor;

  // fork and reaping (native/fork.cc, native/reap.cc); main thread only.
  /**
   * The child's pid in the parent, 0 in the child, which goes on running JS
   * with its own event loop. Call it from a setImmediate callback in a
   * process started with `--single-threaded` and without worker threads; the
   * child must close the parent's handles it inherited (stdin, control
   * sockets), must not run the parent's pending callbacks (immediates and
   * timers are inherited), and leaves best with `exitNow`; process.exit(),
   * an uncaught exception or a drained loop also end it cleanly (the addon
   * installs an 'exit' guard in the child). See native/fork.cc.
   */
  fork(options?: ForkOptions): number;
  /** `_exit(code)`: Node's exit path is not safe in a forked child. */
  exitNow(code: number): never;
  getpid(): number;
  getppid(): number;
  /** Called once per forked child that ends; exits wait while no handler is set. */
  onChildExit(handler: ((exit: ChildExit) => void) | null): void;
  /** Reap now; returns the exits not yet handed to the handler (they will not be). */
  reapChildren(): ChildExit[];
  /** Forked children not reaped yet. */
  forkedChildren(): number[];
}

export interface NativeStatus {
  available: boolean;
  reason?: string;
  /** Addon members this build lacks (a stale build), empty when it is not loaded at all. */
  missing: string[];
}

/** The members each feature needs, for error messages that name the gap. */
const FEATURE_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  framing: ['Framer', 'encodeFrames'],
  fdpass: ['socketPair', 'sendFds', 'recvFds', 'recvFdsInto', 'dupFd', 'shutdownWrite', 'setSendBuffer', 'FdWatcher'],
  fork: ['fork', 'exitNow', 'getpid', 'getppid', 'onChildExit', 'reapChildren', 'forkedChildren'],
};
const ALL_MEMBERS = [...new Set(Object.values(FEATURE_MEMBERS).flat())];

/** The package root: src/native.ts and dist/native.js both sit one level below it. */
const packageRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

function noNativeRequested(): boolean {
  const flag = process.env.THESPIS_NO_NATIVE;
  return flag !== undefined && flag !== '' && flag !== '0' && flag.toLowerCase() !== 'false';
}

const disabledByEnv = noNativeRequested();

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  if (disabledByEnv) {
    return {
      addon: null,
      status: { available: false, reason: 'THESPIS_NO_NATIVE is set in the environment', missing: [] },
    };
  }
  let loaded: Record<string, unknown>;
  try {
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    loaded = nodeGypBuild(packageRoot) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { addon: null, status: { available: false, reason: `the addon is not built (${reason})`, missing: [] } };
  }
  const missing = ALL_MEMBERS.filter((name) => loaded[name] === undefined);
  if (loaded.abiVersion !== EXPECTED_ABI || missing.length > 0) {
    const reason =
      `the built addon is out of date (abiVersion ${String(loaded.abiVersion)}, expected ${EXPECTED_ABI}` +
      (missing.length > 0 ? `; lacks ${missing.join(', ')})` : ')');
    return { addon: null, status: { available: false, reason, missing } };
  }
  return { addon: loaded as unknown as NativeAddon, status: { available: true, missing: [] } };
}

const loaded = load();

/** The addon, or null when it is not built, out of date, or disabled by THESPIS_NO_NATIVE. */
export const native: NativeAddon | null = loaded.addon;

export function nativeStatus(): NativeStatus {
  return { ...loaded.status, missing: [...loaded.status.missing] };
}

/**
 * The addon, for a feature that cannot work without it. Throws
 * NativeAddonMissingError naming the feature, the reason and how to build it.
 */
export function requireNative(feature: string): NativeAddon {
  if (native !== null) return native;
  const status = loaded.status;
  const lacking = (FEATURE_MEMBERS[feature] ?? []).filter((name) => status.missing.includes(name));
  const build =
    `build it with \`npm install\` (or \`npm run build:native\`; in a project that depends on thespis, \`npm rebuild thespis\`) in ${packageRoot}; ` +
    'building needs python3, make and a C++ compiler (g++).';
  if (disabledByEnv) {
    throw new NativeAddonMissingError(
      `${feature} needs the thespis native addon, which THESPIS_NO_NATIVE turned off. ` +
        `Unset THESPIS_NO_NATIVE to use it; if it is not built, ${build}`,
    );
  }
  throw new NativeAddonMissingError(
    `${feature} needs the thespis native addon, which is not available: ${status.reason ?? 'unknown reason'}` +
      (lacking.length > 0 ? ` (${feature} needs ${lacking.join(', ')})` : '') +
      `. To use it, ${build}`,
  );
}
