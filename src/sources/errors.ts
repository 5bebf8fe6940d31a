/** Errors of loadable sources (re-exported by the package). */
import { ThespisError } from '../errors.js';

/**
 * A bundle is not a source this runtime takes: a corrupt archive, an entry
 * with `..`, an absolute path or a link, a limit broken (size, entry count,
 * expansion ratio), or a file of a kind a source may not hold.
 */
export class InvalidSourceError extends ThespisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidSourceError';
  }
}

/** A signature that is missing, malformed, made with an untrusted key, or does not match the source. */
export class SourceSignatureError extends ThespisError {
  constructor(message: string) {
    super(message);
    this.name = 'SourceSignatureError';
  }
}
