import { networkInterfaces } from 'node:os';
import { CliError, type Command } from '../command.js';
import { isDaemonProcess, waitForExit } from '../daemon/pid.js';
import { TARGET_HELP, TARGET_OPTIONS } from '../target.js';

export const stop: Command = {
  name: 'stop',
  summary: 'stop the system (children first) and wait for its process to exit',
  help: `usage: thespis stop [--timeout 30000] [--admin host:port] [--secret-file F]

Shuts the system down: every actor stops, children before their parents, then
its threads and processes. For a daemon on this host (thespis start), waits
until its process has exited (at most --timeout ms; exit 1 if it is still
there); a program that runs a system of its own keeps running.

${TARGET_HELP}`,
  options: { timeout: { type: 'string' }, ...TARGET_OPTIONS },
  positionals: { min: 0, max: 0 },
  inShell: true,

  async run(args, context) {
    const timeoutMs = args.integer('timeout', 30_000, 1);
    const system = await context.system(args);
    const { pid, systemId } = await system.status();
    const where = `system ${systemId} at ${system.adminAddress}`;
    const local = onThisHost(system.adminAddress.slice(0, system.adminAddress.lastIndexOf(':')));
    const daemon = local && isDaemonProcess(pid);
    await system.shutdown();
    context.systemStopped?.();
    if (!daemon) {
      context.out.write(`stopped ${where} (${local ? `its process ${pid} is not a thespis daemon and keeps running` : 'its process is on another host'})\n`);
      return;
    }
    if (!(await waitForExit(pid, timeoutMs))) {
      throw new CliError(`${where} shut down, but its process ${pid} is still running after ${timeoutMs} ms: see its log, or kill ${pid}`);
    }
    context.out.write(`stopped ${where} (pid ${pid} exited)\n`);
  },
};

function onThisHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (/^(127\.|::1$|localhost$|::ffff:127\.)/.test(bare)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((entry) => entry.address === bare) === true);
}
