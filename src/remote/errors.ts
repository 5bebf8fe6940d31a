/** Errors of remote hosts (re-exported by the package). */
import { ThespisError } from '../errors.js';

/** A host did not boot: it could not start, exited, or timed out; `output` is what it printed before. */
export class RemoteBootError extends ThespisError {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(output === '' ? message : `${message}; it printed:\n${output}`);
    this.name = 'RemoteBootError';
  }
}

/** A host (or one it was reached through) is gone: its link ended. */
export class RemoteHostGoneError extends ThespisError {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteHostGoneError';
  }
}

/** A module a host asked for lies outside the parent's serve roots (or cannot be read). */
export class ModuleRefusedError extends ThespisError {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleRefusedError';
  }
}
