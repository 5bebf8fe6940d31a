/**
 * What `thespis` is on a remote host: everything an actor module may use
 * there (the package surface without the system, which lives on the
 * system's side). Kept apart from index.ts so the runtime a host evaluates
 * at boot leaves out the system's bases, threads and processes.
 */
import { ThespisError } from '../errors.js';

export { Actor } from '../actor.js';
export { ActorTypeDispatcher } from '../typed-dispatch.js';
export { ActorAddress } from '../address.js';
export {
  ActorExitRequest,
  ChildActorExited,
  PoisonMessage,
  DeadEnvelope,
  WakeupMessage,
  ActorSystemConventionUpdate,
  ValidateSource,
  ValidatedSource,
  LoadedSource,
  UnloadedSource,
  registerMessage,
} from '../messages.js';
export { nativeStatus } from '../native.js';
export {
  ThespisError,
  ActorTimeoutError,
  DeadActorError,
  PoisonError,
  NoCompatibleSystemError,
  InvalidActorSpecError,
  InvalidActorAddressError,
  ActorSystemShutdownError,
  ActorCreationError,
  CodecError,
  NativeAddonMissingError,
} from '../errors.js';
export { RemoteBootError, RemoteHostGoneError, ModuleRefusedError } from './errors.js';
export { InvalidSourceError, SourceSignatureError } from '../sources/errors.js';

/** Stands in for the system's classes on a host: an actor module may name them, not use them. */
class NotOnARemoteHost {
  static start(): never {
    throw new ThespisError('ActorSystem is not available on a remote host: start systems on the system side');
  }
}

export { NotOnARemoteHost as ActorSystem, NotOnARemoteHost as RemoteHost };
