// Code that runs on remote hosts in examples/remote-hosts.js: the host imports
// this module from the system that connected it (module forwarding), and
// `thespis` there is the runtime the host already runs.
import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { Actor } from 'thespis';

/** Answers `{ path }` with the size and mode of that path on its host. */
export class DiskProbe extends Actor {
  static module = import.meta.url;
  receiveMessage({ path }, sender) {
    const stat = statSync(path);
    this.log.info(`probed ${path}`);
    this.send(sender, { host: hostname(), pid: process.pid, uid: process.getuid(), size: stat.size, mode: (stat.mode & 0o777).toString(8) });
  }
}

export function whereAmI(greeting) {
  return `${greeting} from pid ${process.pid} (parent ${process.ppid})`;
}
