/**
 * The options of ActorSystem.start, and the checks that turn a mistake into
 * a clear error at the call instead of a surprise later.
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { Capabilities } from '../core/placement/capabilities.js';
import { LOG_LEVELS, type LogLevel, type LogRecord } from '../core/log.js';
import type { Startup } from '../hosts/process/process-protocol.js';
import { isAdminAddress } from '../net/wire.js';

export type BaseName = 'inline' | 'workers' | 'processes';

export interface ActorSystemOptions {
  /** Where actors run. Default `'workers'`. */
  base?: BaseName;
  /** Worker thread count for the workers base. Default: available parallelism. */
  workers?: number;
  /**
   * Limits for each worker thread (heap sizes, stack size), as for `new Worker`.
   * A thread that hits one dies like a crashing thread: its actors are
   * reported exited and the thread is replaced.
   */
  resourceLimits?: ResourceLimits;
  /** How process actors start. Default: `forkserver` where the addon is built, else `spawn`. */
  startup?: Startup;
  /** This system's capabilities; `'Outbound Only': true` (with no `admin`) makes it dial out only. */
  capabilities?: Capabilities;
  /** Receives every log record at or above `logLevel`. Default: warnings and errors to stderr. */
  logger?: (record: LogRecord) => void;
  logLevel?: LogLevel;
  /** Listen for other systems and clients (port 0: any free port; host default 127.0.0.1). */
  admin?: { port: number; host?: string };
  /**
   * Join a convention: `leader` is one admin address ("host:port") or a list;
   * a system that finds its own address there leads. Each system sends
   * heartbeats every `heartbeatMs` (default 500) and counts a peer gone after
   * `deadAfterMs` (default 3000) of silence.
   */
  convention?: { leader?: string | readonly string[]; heartbeatMs?: number; deadAfterMs?: number };
  /** Every member and client must present it (TLS 1.3 with a key derived from it). */
  secret?: string;
  /** Allow an admin port beyond loopback without a secret. */
  insecure?: boolean;
  /** Loadable sources (see README "Loadable sources"). */
  sources?: SourceOptions;
}

export interface SourceOptions {
  /** How long the source authority has to answer a ValidateSource before the load expires. Default 120000 (2 minutes). */
  validationTimeoutMs?: number;
  /** The directory whose packages (node_modules) sources' bare imports resolve against. Default: the entry script's directory, else the working directory. */
  packagesFrom?: string;
}

export const OUTBOUND_ONLY = 'Outbound Only';

/** Throws a TypeError naming the first option that is wrong. */
export function checkNetworkOptions(options: ActorSystemOptions): void {
  const { admin, convention, secret } = options;
  if (admin !== undefined) {
    if (typeof admin !== 'object' || admin === null) throw new TypeError('ActorSystem.start: admin must be { port, host? }');
    if (!Number.isInteger(admin.port) || admin.port < 0 || admin.port > 65535) throw new TypeError(`ActorSystem.start: admin.port must be a port number (0-65535), got ${String(admin.port)}`);
    if (admin.host !== undefined && (typeof admin.host !== 'string' || admin.host === '')) throw new TypeError('ActorSystem.start: admin.host must be a host name or address');
  }
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 8)) {
    throw new TypeError('ActorSystem.start: secret must be a string of at least 8 characters');
  }
  if (convention !== undefined) {
    if (typeof convention !== 'object' || convention === null) throw new TypeError('ActorSystem.start: convention must be { leader?, heartbeatMs?, deadAfterMs? }');
    const leaders = convention.leader === undefined ? [] : typeof convention.leader === 'string' ? [convention.leader] : convention.leader;
    if (!Array.isArray(leaders) || leaders.some((l) => !isAdminAddress(l))) {
      throw new TypeError(`ActorSystem.start: convention.leader must be "host:port" or a list of them, got ${JSON.stringify(convention.leader)}`);
    }
    const heartbeat = convention.heartbeatMs ?? 500;
    const dead = convention.deadAfterMs ?? 3000;
    if (!(heartbeat > 0) || !Number.isFinite(heartbeat)) throw new TypeError('ActorSystem.start: convention.heartbeatMs must be a positive number');
    if (!(dead > heartbeat) || !Number.isFinite(dead)) throw new TypeError('ActorSystem.start: convention.deadAfterMs must be larger than heartbeatMs');
    if (admin === undefined && options.capabilities?.[OUTBOUND_ONLY] !== true) {
      throw new TypeError(`ActorSystem.start: a convention member needs an admin port (admin: { port: 0 }), or the capability '${OUTBOUND_ONLY}': true`);
    }
  }
  const timeout = options.sources?.validationTimeoutMs;
  if (timeout !== undefined && (!(timeout > 0) || !Number.isFinite(timeout))) throw new TypeError('ActorSystem.start: sources.validationTimeoutMs must be a positive number of milliseconds');
  if (options.capabilities?.[OUTBOUND_ONLY] === true && admin !== undefined) {
    throw new TypeError(`ActorSystem.start: an '${OUTBOUND_ONLY}' system opens no admin port: drop the admin option`);
  }
}

export function makeLogSink(options: ActorSystemOptions): (record: LogRecord) => void {
  const threshold = LOG_LEVELS[options.logLevel ?? 'warn'];
  const out =
    options.logger ??
    ((record: LogRecord) => {
      const detail = record.detail === undefined ? '' : ` ${typeof record.detail === 'string' ? record.detail : JSON.stringify(record.detail)}`;
      const where = record.host === undefined ? record.source : `${record.host} ${record.source}`;
      process.stderr.write(`[thespis ${record.level}] ${where}: ${record.message}${detail}\n`);
    });
  return (record) => {
    if (LOG_LEVELS[record.level] >= threshold) out(record);
  };
}
