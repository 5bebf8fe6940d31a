import { resolve } from 'node:path';
import type { BaseName, Capabilities, LogLevel } from '../../index.js';
import { isLoopback } from '../../net/secret.js';
import type { Args } from '../args.js';
import { CliError, UsageError, type Command, type CommandContext } from '../command.js';
import type { DaemonOptions, ReadyInfo, StartReport } from '../daemon/daemon.js';
import { ipcReport, REPORT_ENV, startInBackground } from '../daemon/detach.js';
import { DEFAULT_LOG_MAX_BYTES } from '../daemon/log-file.js';
import { defaultLogPath, ensureStateDir } from '../daemon/state.js';
import { parsePairs } from '../pairs.js';
import { readTrustedKey } from '../source-args.js';
import { DEFAULT_PORT, isAdminAddress, readSecret } from '../target.js';

const BASES: readonly BaseName[] = ['workers', 'inline', 'processes'];
const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export const start: Command = {
  name: 'start',
  summary: 'start a system as a daemon and print its admin address',
  help: `usage: thespis start [--port ${DEFAULT_PORT}] [--host 127.0.0.1] [--base workers|inline|processes]
                     [--capability name=value]... [--convention host:port[,host:port]]
                     [--secret-file F] [--insecure] [--trust-key public.pem]...
                     [--foreground] [--log F]
                     [--log-max-size 10M] [--log-level info] [--timeout 30000]

Starts an actor system with an admin port, in the background (detached, in a
session of its own), and returns once the port listens: it prints the address
on stdout (so \`export THESPIS_ADMIN=$(thespis start --port 0)\` works), or
exits 1 with the reason (port taken, a bad capability, an unreadable secret
file). A pid file in the state directory keeps a second daemon off the port.

  --port N           the admin port (0: any free port)             default ${DEFAULT_PORT}
  --host H           the address to listen on; beyond loopback it needs a secret
                     (or --insecure on a trusted network)           default 127.0.0.1
  --base B           where actors run: workers, inline or processes default workers
  --capability k=v   a capability of this system (repeatable); the value is read as
                     JSON when it is JSON (true, 4, "x"), else as text
  --convention L     join the convention led by L (host:port, or a comma list)
  --secret-file F    every member and client must present the secret in F
  --trust-key F      run a source authority that accepts loadable sources signed
                     with this Ed25519 public key (repeatable; see thespis source)
  --foreground       stay in the foreground (for systemd and containers): log to
                     stderr, or to --log F; SIGTERM or SIGINT stop it
  --log F            the log file (default: <state>/<host>-<port>.log)
  --log-max-size S   size cap of the log, then one rotation to F.1  default 10M
  --log-level L      debug, info, warn or error                     default info
  --timeout MS       how long to wait for the port to listen         default 30000

The daemon shuts down gracefully on SIGTERM and SIGINT, and writes its status
to its log on SIGUSR1. The state directory is THESPIS_STATE_DIR, or
$XDG_STATE_HOME/thespis, or ~/.local/state/thespis.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    base: { type: 'string' },
    capability: { type: 'string', multiple: true },
    convention: { type: 'string', multiple: true },
    'secret-file': { type: 'string' },
    insecure: { type: 'boolean' },
    'trust-key': { type: 'string', multiple: true },
    foreground: { type: 'boolean' },
    log: { type: 'string' },
    'log-max-size': { type: 'string' },
    'log-level': { type: 'string' },
    timeout: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  inShell: false,

  async run(args, context) {
    const options = daemonOptions(args, context);
    if (args.flag('foreground')) {
      const { runDaemon } = await import('../daemon/daemon.js');
      const viaIpc = context.env[REPORT_ENV] === 'ipc';
      const code = await runDaemon(options, viaIpc ? ipcReport() : consoleReport(context), context.env).catch((error: unknown) => {
        context.err.write(`thespis start: ${(error as Error).message}\n`);
        return 1;
      });
      // The system has shut down (or never started): end the process even if
      // an actor's module left a timer or a socket open in this thread, or
      // the starter's IPC channel is still open.
      process.exit(code);
    }
    ensureStateDir(context.env);
    const log = options.log ?? defaultLogPath(context.env, options.host, options.port);
    const info = await startInBackground(toArgs({ ...options, log }), log, context.env, args.integer('timeout', 30_000, 1));
    announce(info, context);
  },
};

function daemonOptions(args: Args, context: CommandContext): DaemonOptions {
  const base = (args.string('base') ?? 'workers') as BaseName;
  if (!BASES.includes(base)) throw new UsageError(`--base must be one of ${BASES.join(', ')}, got "${base}"`);
  const logLevel = (args.string('log-level') ?? 'info') as LogLevel;
  if (!LEVELS.includes(logLevel)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}, got "${logLevel}"`);
  const convention = args.strings('convention').flatMap((list) => list.split(',')).map((a) => a.trim()).filter((a) => a !== '');
  for (const leader of convention) if (!isAdminAddress(leader)) throw new UsageError(`--convention needs host:port addresses, got "${leader}"`);
  const host = args.string('host') ?? '127.0.0.1';
  const secretFile = args.string('secret-file');
  const options: DaemonOptions = {
    host,
    port: args.integer('port', DEFAULT_PORT, 0, 65535),
    base,
    capabilities: capabilitiesOf(args.strings('capability')),
    convention,
    secretFile: secretFile === undefined ? undefined : resolve(context.cwd, secretFile),
    insecure: args.flag('insecure'),
    trustKeys: args.strings('trust-key').map((file) => resolve(context.cwd, file)),
    log: args.string('log') === undefined ? undefined : resolve(context.cwd, args.string('log')!),
    logMaxBytes: sizeOf(args.string('log-max-size')),
    logLevel,
  };
  // Checked here too, so the starter says so before a daemon is spawned.
  for (const file of options.trustKeys) readTrustedKey(file);
  if (options.secretFile !== undefined) readSecret(options.secretFile);
  else if (!options.insecure && !isLoopback(host)) {
    throw new CliError(`refusing to listen on ${host} without a secret: anyone who reaches the port could run code here. Give --secret-file F, or --insecure on a trusted network`);
  }
  return options;
}

/** `--capability name=value`, the value read as JSON when it is JSON. A bad one stops the start (exit 1). */
function capabilitiesOf(list: readonly string[]): Capabilities {
  const capabilities = parsePairs(list, (item) => new CliError(`bad capability "${item}": write it as name=value (for example --capability gpu=true)`));
  if (capabilities['Outbound Only'] === true) throw new CliError('bad capability "Outbound Only": a daemon always has an admin port');
  return capabilities;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function sizeOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LOG_MAX_BYTES;
  const match = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  const bytes = match === null ? NaN : Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  if (!(bytes >= 1024)) throw new UsageError(`--log-max-size must be a size of at least 1k (like 512k or 10M), got "${text}"`);
  return bytes;
}

/** The daemon's command line: the options as checked here, paths made absolute. */
function toArgs(options: DaemonOptions): string[] {
  const args = ['--port', String(options.port), '--host', options.host, '--base', options.base, '--log-level', options.logLevel];
  args.push('--log-max-size', String(options.logMaxBytes));
  for (const [name, value] of Object.entries(options.capabilities)) args.push('--capability', `${name}=${JSON.stringify(value)}`);
  if (options.convention.length > 0) args.push('--convention', options.convention.join(','));
  if (options.secretFile !== undefined) args.push('--secret-file', options.secretFile);
  if (options.insecure) args.push('--insecure');
  for (const file of options.trustKeys) args.push('--trust-key', file);
  if (options.log !== undefined) args.push('--log', options.log);
  return args;
}

function announce(info: ReadyInfo, context: CommandContext): void {
  context.out.write(`${info.adminAddress}\n`);
  context.err.write(`thespis start: system ${info.systemId} listens on ${info.adminAddress} (pid ${info.pid}); log: ${info.log ?? 'stderr'}\n`);
}

/** A daemon in the foreground, started by a person or a service manager: says it on stdout / stderr. */
function consoleReport(context: CommandContext): StartReport {
  return {
    ready: async (info) => announce(info, context),
    failed: async (reason) => {
      context.err.write(`thespis start: ${reason}\n`);
    },
  };
}
