/** thespis: the public surface (re-exports only). */
export { Actor } from './actor.js';
export type { CreateOptions, ActorSpec, TroupeOptions, Logger, Capabilities, CapabilityCheck } from './actor.js';
export { ActorTypeDispatcher } from './typed-dispatch.js';
export { ActorAddress } from './address.js';
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
} from './messages.js';
export type { MessageClass } from './messages.js';
export { ActorSystem } from './system.js';
export { nativeStatus } from './native.js';
export type { NativeStatus } from './native.js';
export type { ActorSystemOptions, MessageEndpoint, SystemStatus, BaseName, Startup } from './system.js';
export type { LogRecord, LogLevel } from './core/log.js';
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
  MessageTooLargeError,
  NativeAddonMissingError,
} from './errors.js';
