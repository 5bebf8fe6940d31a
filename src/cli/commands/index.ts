/**
 * The command table, in the order `thespis help` lists them. Each command is
 * a module of its own in this folder; a new one is a file and a line here.
 */
import type { Command } from '../command.js';
import { ask } from './ask.js';
import { create } from './create.js';
import { load } from './load.js';
import { run } from './run.js';
import { shell } from './shell.js';
import { source } from './source.js';
import { sources } from './sources.js';
import { start } from './start.js';
import { status } from './status.js';
import { stop } from './stop.js';
import { tell } from './tell.js';
import { unload } from './unload.js';
import { version } from './version.js';

export const COMMANDS: readonly Command[] = [start, status, create, tell, ask, load, unload, sources, shell, stop, source, run, version];
