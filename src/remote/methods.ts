/**
 * Connection methods: the command that starts `node` running the first stage
 * on the target — a child `node`, the system's OpenSSH client (so the user's
 * config, agent, known_hosts and ProxyJump apply), `sudo` or `su`.
 *
 * Passwords go through a pseudo-terminal, never through the link's pipes.
 * util-linux `script` allocates it (no native code, so the same command works
 * on a host reached `via` another, where the addon does not run, and it is
 * in every Debian system: bsdutils is essential): sudo or su runs in script's
 * terminal, prompts there and reads the password from it, which the boot
 * answers once on script's stdin (bootstrap.ts). The link itself is a socket
 * the command gets as fd 3, which the shell hands to node as its stdin and
 * stdout, so runtime and envelopes never pass a terminal's line discipline
 * (and sudo's use_pty relays only what is a terminal: node's stderr).
 * Without a password sudo runs with `-n` on plain pipes (a rule that needs
 * one fails at once instead of waiting); with one, with `-k`, so a credential
 * cached by an earlier sudo is not reused (the password given is always the
 * one checked). su without a password runs without a terminal, with the link
 * on fd 3 too, so that if it asks after all it reads nothing of the runtime
 * as a password: the prompt fails the boot.
 */
import { firstStage } from './bootstrap.js';
import type { MethodSpec } from './protocol.js';

export interface MethodCommand {
  argv: string[];
  /** A password prompt to answer (or to fail on, when no password was given). */
  prompt?: RegExp;
  /** The link is on fd 3 (see bootstrap.ts). */
  linkOnFd3: boolean;
  /** Why it failed when argv[0] is not found. */
  missing?: string;
  env?: NodeJS.ProcessEnv;
}

const NO_SCRIPT = 'answering a password needs a pseudo-terminal, and `script` (util-linux) was not found';
/** su's prompt (PAM); messages in the C locale so that it reads as this. */
const SU_PROMPT = /[Pp]assword: ?$/;

/** Runs shell `command` in a new pseudo-terminal (util-linux script: quiet, its exit code, no typescript). */
function inTerminal(command: string): Pick<MethodCommand, 'argv' | 'missing' | 'env'> {
  return {
    argv: ['script', '-q', '-e', '-c', command, '/dev/null'],
    missing: NO_SCRIPT,
    env: { ...process.env, SHELL: '/bin/sh', LC_ALL: 'C' },
  };
}

/** `'…'` for a POSIX shell. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/;

export function checkSpec(spec: MethodSpec): void {
  const method = spec.method;
  if (method !== 'local' && method !== 'ssh' && method !== 'sudo' && method !== 'su') {
    throw new TypeError(`connectHost: method must be 'local', 'ssh', 'sudo' or 'su', got ${String(method)}`);
  }
  if (method === 'ssh' && (typeof spec.hostname !== 'string' || spec.hostname === '' || spec.hostname.startsWith('-'))) {
    throw new TypeError('connectHost: ssh needs a hostname');
  }
  if ((method === 'sudo' || method === 'su') && spec.user === undefined && method === 'su') {
    throw new TypeError('connectHost: su needs a user');
  }
  if (spec.user !== undefined && (typeof spec.user !== 'string' || !USER.test(spec.user))) {
    throw new TypeError(`connectHost: bad user name ${JSON.stringify(spec.user)}`);
  }
  if (spec.port !== undefined && (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535)) {
    throw new TypeError(`connectHost: bad port ${String(spec.port)}`);
  }
  if (spec.hostKeyChecking !== undefined && !['enforce', 'accept', 'ignore'].includes(spec.hostKeyChecking)) {
    throw new TypeError(`connectHost: hostKeyChecking must be 'enforce', 'accept' or 'ignore'`);
  }
  if (spec.password !== undefined && (typeof spec.password !== 'string' || /[\r\n]/.test(spec.password))) {
    throw new TypeError('connectHost: password must be a string of one line');
  }
}

/** The command for `spec` whose target runs the first stage, for boot `token`. */
export function methodCommand(spec: MethodSpec, token: string): MethodCommand {
  const node = spec.nodePath ?? 'node';
  const stage = firstStage();
  /** node on the link at fd 3, which it does not keep. */
  const nodeOnFd3 = `exec ${shellQuote(node)} -e ${shellQuote(stage)} 0<&3 1>&3 3<&-`;
  switch (spec.method) {
    case 'local':
      return { argv: [node === 'node' ? process.execPath : node, '-e', stage], linkOnFd3: false };
    case 'ssh': {
      const argv = ['ssh', '-T', '-o', 'BatchMode=yes'];
      const checking = spec.hostKeyChecking ?? 'enforce';
      if (checking === 'enforce') argv.push('-o', 'StrictHostKeyChecking=yes');
      else if (checking === 'accept') argv.push('-o', 'StrictHostKeyChecking=accept-new');
      else argv.push('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR');
      if (spec.port !== undefined) argv.push('-p', String(spec.port));
      if (spec.user !== undefined) argv.push('-l', spec.user);
      if (spec.identityFile !== undefined) argv.push('-i', spec.identityFile);
      argv.push(...(spec.sshArgs ?? []), '--', spec.hostname!, `${shellQuote(node)} -e ${shellQuote(stage)}`);
      return { argv, linkOnFd3: false };
    }
    case 'sudo': {
      const user = spec.user ?? 'root';
      if (spec.password === undefined) return { argv: ['sudo', '-n', '-u', user, '--', node, '-e', stage], linkOnFd3: false };
      // Our own prompt: nothing the target prints can be taken for it.
      const prompt = `thespis-sudo-password-${token}:`;
      return {
        ...inTerminal(`exec sudo -k -p ${shellQuote(prompt)} -u ${shellQuote(user)} -- ${nodeOnFd3.slice('exec '.length)}`),
        prompt: new RegExp(prompt.replace(/[-:]/g, '\\$&')),
        linkOnFd3: true,
      };
    }
    case 'su': {
      const su = ['su', '-s', '/bin/sh', '-c', nodeOnFd3, spec.user!];
      if (spec.password === undefined) return { argv: su, prompt: SU_PROMPT, linkOnFd3: true, env: { ...process.env, LC_ALL: 'C' } };
      return { ...inTerminal(`exec ${su.map(shellQuote).join(' ')}`), prompt: SU_PROMPT, linkOnFd3: true };
    }
  }
}

