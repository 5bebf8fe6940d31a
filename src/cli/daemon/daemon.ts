/**
 * The daemon itself: a system with an admin port in this process, until it
 * shuts down (`thespis stop`, SIGTERM or SIGINT, an actor's
 * actorSystemShutdown). It logs to a capped file (or stderr in the
 * foreground without --log), holds a pid file for its port, writes its status
 * to the log on SIGUSR1, and reports once, to whoever started it, either its
 * address or why it could not start.
 */
import { ActorSystem, SignedSourceAuthority, TrustSourceKeys, type BaseName, type Capabilities, type LogLevel, type LogRecord } from '../../index.js';
import { CliError } from '../command.js';
import { readTrustedKey } from '../source-args.js';
import { renderStatus } from '../views/status-view.js';
import { style } from '../views/table.js';
import { readSecret } from '../target.js';
import { formatRecord, LogFile } from './log-file.js';
import { claimPidFile, type PidFile } from './pid.js';
import { ensureStateDir, pidFilePath } from './state.js';

export interface DaemonOptions {
  host: string;
  port: number;
  base: BaseName;
  capabilities: Capabilities;
  /** Leaders' admin addresses (none: this system leads whoever names it). */
  convention: string[];
  secretFile?: string;
  insecure: boolean;
  /** Public key files (absolute): with any, a SignedSourceAuthority trusting them validates loaded sources. */
  trustKeys: string[];
  /** Absolute path of the log file; without one, records go to stderr. */
  log?: string;
  logMaxBytes: number;
  logLevel: LogLevel;
}

export interface ReadyInfo {
  adminAddress: string;
  systemId: string;
  pid: number;
  log: string | null;
}

/** How the daemon tells whoever started it that it listens, or why not. */
export interface StartReport {
  ready(info: ReadyInfo): Promise<void>;
  failed(reason: string): Promise<void>;
}

/** Runs the daemon until its system has shut down; resolves to the process's exit code. */
export async function runDaemon(options: DaemonOptions, report: StartReport, env: NodeJS.ProcessEnv): Promise<number> {
  let logFile: LogFile | null = null;
  const write = (text: string): void => void (logFile === null ? process.stderr.write(text) : logFile.write(text));
  const logger = (record: LogRecord): void => write(formatRecord(record));
  // The daemon's own lines (start, signals, stop) are written at any log level.
  const note = (level: LogLevel, message: string, detail?: unknown): void => logger({ level, message, source: 'daemon', time: Date.now(), detail });

  let pidFile: PidFile | null = null;
  let system: ActorSystem | null = null;
  try {
    if (options.log !== undefined) logFile = new LogFile(options.log, options.logMaxBytes);
    const secret = options.secretFile === undefined ? undefined : readSecret(options.secretFile);
    const trusted = options.trustKeys.map(readTrustedKey);
    ensureStateDir(env);
    if (options.port !== 0) pidFile = claimPidFile(pidFilePath(env, options.host, options.port), `${options.host}:${options.port}`);
    system = await ActorSystem.start({
      base: options.base,
      admin: { port: options.port, host: options.host },
      convention: options.convention.length === 0 ? undefined : { leader: options.convention },
      secret,
      insecure: options.insecure,
      capabilities: options.capabilities,
      logger,
      logLevel: options.logLevel,
    });
    // Before the daemon says it is ready, so that no load finds it without its authority.
    if (trusted.length > 0) await system.ask(await system.createActor(SignedSourceAuthority), new TrustSourceKeys(trusted), 30_000);
    // With --port 0 the port is known only now (and no other daemon can hold it).
    pidFile ??= claimPidFile(pidFilePath(env, options.host, Number(system.adminAddress!.slice(system.adminAddress!.lastIndexOf(':') + 1))), system.adminAddress!);
  } catch (error) {
    await system?.shutdown();
    pidFile?.release();
    const reason = whyNotStarted(error, options);
    // Without a log file the report below is the one line on stderr.
    if (logFile !== null) note('error', `not started: ${reason}`);
    logFile?.close();
    await report.failed(reason);
    return 1;
  }

  const running = system;
  const adminAddress = running.adminAddress!;
  let exitCode = 0;
  note('info', `system ${running.systemId} listens on ${adminAddress} (pid ${process.pid}, base ${options.base})`);

  const stopOn = (signal: NodeJS.Signals): void => {
    note('info', `${signal}: shutting down (children first)`);
    void running.shutdown();
  };
  // Numbered, so a reader of the log can tell one signal's status from the next.
  let statuses = 0;
  const writeStatus = (): void => {
    const n = ++statuses;
    // status() throws once a shutdown has begun: that too is said in the log.
    Promise.resolve()
      .then(() => running.status())
      .then((status) => write(`${new Date().toISOString()} info  daemon: status #${n} (SIGUSR1)\n${renderStatus(status, style(false))}`))
      .catch((error: unknown) => note('warn', `SIGUSR1: no status: ${(error as Error).message}`));
  };
  const crashed = (error: unknown): void => {
    note('error', 'uncaught error in the daemon: shutting down', error instanceof Error ? error.stack : String(error));
    exitCode = 1;
    void running.shutdown();
  };
  process.on('SIGTERM', stopOn);
  process.on('SIGINT', stopOn);
  process.on('SIGUSR1', writeStatus);
  process.on('uncaughtException', crashed);
  process.on('unhandledRejection', crashed);

  await report.ready({ adminAddress, systemId: running.systemId, pid: process.pid, log: options.log ?? null });
  await running.stopped;

  note('info', `system ${running.systemId} stopped`);
  pidFile.release();
  logFile?.close();
  return exitCode;
}

/** One line that says why the system did not start and what to do. */
function whyNotStarted(error: unknown, options: DaemonOptions): string {
  if (error instanceof CliError) return error.message;
  const { code, message } = error as Error & { code?: string };
  switch (code) {
    case 'EADDRINUSE':
      return `port ${options.port} on ${options.host} is taken (something else listens there): choose another --port, or --port 0 for any free one`;
    case 'EADDRNOTAVAIL':
      return `${options.host} is not an address of this machine: choose another --host`;
    case 'EACCES':
      return `no permission to listen on port ${options.port} of ${options.host}: choose a --port above 1023`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the host name ${options.host}: choose another --host`;
    default:
      return message.replace(/^ActorSystem\.start: /, '');
  }
}
