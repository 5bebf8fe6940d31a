/**
 * Connection methods: the command that starts `node` running the first stage
 * on the target — a child `node`, the system's OpenSSH client (so the user's
 * config, agent, known_hosts and ProxyJump apply), `sudo` or `su`.
 *
 * Passwords. sudo is run with `-S` and a prompt of our own, su reads its
 * password from stdin as well (util-linux su through PAM): both are answered
 * on the pipe that will carry the link, once, after the prompt shows; no
 * terminal is allocated, so this works the same on a host reached `via`
 * another, where no native addon is loaded. Without a password sudo runs
 * with `-n`, so a rule that needs one fails at once instead of waiting; with
 * one, with `-k`, so a credential cached by an earlier sudo is not reused
 * (the password given is always the one checked).
 */
import { firstStage } from './bootstrap.js';
import type { MethodSpec } from './protocol.js';

export interface MethodCommand {
  argv: string[];
  prompt?: RegExp;
  /** Send the runtime only once node runs (a password may be read from the same pipe first). */
  waitForWant: boolean;
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

/** The command for `spec` whose target runs the first stage of boot `token`. */
export function methodCommand(spec: MethodSpec, token: string): MethodCommand {
  const node = spec.nodePath ?? 'node';
  const stage = firstStage(token);
  switch (spec.method) {
    case 'local':
      return { argv: [node === 'node' ? process.execPath : node, '-e', stage], waitForWant: false };
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
      return { argv, waitForWant: false };
    }
    case 'sudo': {
      const prompt = `thespis-sudo-password-${token}:`;
      const argv = ['sudo', ...(spec.password === undefined ? ['-n'] : ['-k', '-S', '-p', prompt]), '-u', spec.user ?? 'root', '--', node, '-e', stage];
      return { argv, prompt: new RegExp(prompt.replace(/[-:]/g, '\\$&')), waitForWant: spec.password !== undefined };
    }
    case 'su':
      return {
        argv: ['su', '-s', '/bin/sh', '-c', `exec ${shellQuote(node)} -e ${shellQuote(stage)}`, spec.user!],
        prompt: /[Pp]assword: ?$/,
        waitForWant: true,
      };
  }
}
