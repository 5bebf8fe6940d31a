/**
 * `thespis shell`: a node:repl whose lines are either a command (the same
 * modules as on the command line, talking to the shell's client) or
 * JavaScript, with `system` bound to the client. Lines run one after
 * another, each to its end (a pasted `create` then `ask` keep their order),
 * history is kept in ~/.thespis_history (THESPIS_HISTORY; empty: none), and
 * tab completes command names and options.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { start as startRepl, type REPLEval } from 'node:repl';
import { ActorAddress } from '../../address.js';
import type { ActorSystemClient } from '../../index.js';
import { UsageError, type Command, type CommandContext } from '../command.js';
import { reportFailure, runCommand } from '../run-command.js';
import { wantsColour } from '../views/table.js';
import { completeCommand } from './complete.js';
import { splitWords } from './words.js';

type Completer = (line: string, callback: (error: Error | null, result?: [string[], string]) => void) => void;

export async function runShell(client: ActorSystemClient, outer: CommandContext): Promise<void> {
  const commands = outer.commands.filter((c) => c.inShell);
  const input = process.stdin;
  const output = process.stdout;
  output.write(
    `connected to system ${client.systemId} at ${client.adminAddress}\n` +
      `commands: ${commands.map((c) => c.name).join(', ')}, help; JavaScript too, with \`system\` the client (await system.status()); .exit leaves\n`,
  );
  const server = startRepl({ prompt: 'thespis> ', input, output, ignoreUndefined: true, useColors: outer.colour });
  Object.defineProperty(server.context, 'system', { value: client, enumerable: true });
  Object.defineProperty(server.context, 'ActorAddress', { value: ActorAddress, enumerable: true });

  let stopped = false;
  const context: CommandContext = {
    ...outer,
    out: output,
    err: output,
    colour: wantsColour(output, outer.env),
    shell: true,
    system: async (args) => {
      if (args.string('admin') !== undefined || args.string('secret-file') !== undefined) {
        throw new UsageError(`this shell talks to ${client.adminAddress}; for another system, start another shell (thespis shell --admin host:port)`);
      }
      return client;
    },
    systemStopped: () => {
      stopped = true;
    },
  };

  const evalJs = server.eval.bind(server);
  let queue = Promise.resolve();
  const evalLine: REPLEval = (code, replContext, file, callback) => {
    queue = queue.then(
      () =>
        new Promise<void>((done) => {
          // Lines that came after a stop (pasted, or piped in) are not run.
          if (stopped) return done();
          const finish: typeof callback = (error, result) => {
            callback(error, result);
            done();
          };
          const name = /^\s*([a-z]+)(\s|$)/.exec(code)?.[1];
          if (name === 'help' || commands.some((c) => c.name === name)) {
            void runLine(code, commands, context).then(() => {
              finish(null, undefined);
              if (stopped) server.close();
            });
          } else {
            evalJs(code, replContext, file, finish);
          }
        }),
    );
  };
  (server as unknown as { eval: REPLEval }).eval = evalLine;

  const completeJs = server.completer as Completer;
  (server as unknown as { completer: Completer }).completer = (line, callback) => {
    const mine = completeCommand(line, commands);
    if (mine === null) completeJs.call(server, line, callback);
    else callback(null, mine);
  };

  const history = outer.env.THESPIS_HISTORY ?? join(homedir(), '.thespis_history');
  if (history !== '') {
    await new Promise<void>((resolve) =>
      server.setupHistory(history, (error: Error | null) => {
        if (error !== null) output.write(`(no history: ${error.message})\n`);
        resolve();
      }),
    );
  }
  await new Promise<void>((resolve) => server.once('exit', resolve));
  await queue;
}

async function runLine(line: string, commands: readonly Command[], context: CommandContext): Promise<void> {
  let words: string[];
  try {
    words = splitWords(line);
  } catch (error) {
    reportFailure(/^\s*(\S+)/.exec(line)?.[1] ?? 'shell', error, context.err, context.env);
    return;
  }
  const [name, ...rest] = words as [string, ...string[]];
  if (name === 'help') {
    const about = commands.find((c) => c.name === rest[0]);
    const widest = Math.max(...commands.map((c) => c.name.length));
    context.out.write(about !== undefined ? `${about.help}\n` : commands.map((c) => `  ${c.name.padEnd(widest)}  ${c.summary}\n`).join('') + '  help <command> for its details\n');
    return;
  }
  await runCommand(commands.find((c) => c.name === name)!, rest, context);
}
