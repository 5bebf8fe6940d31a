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
export { ActorSystem } from './system/system.js';
export { nativeStatus } from './native.js';
export { RemoteHost } from './remote/remote-host.js';
export type { ConnectHostOptions, RemoteHostStatus } from './remote/remote-host.js';
export { RemoteBootError, RemoteHostGoneError, ModuleRefusedError } from './remote/errors.js';
export type { NativeStatus } from './native.js';
export { SignedSourceAuthority, TrustSourceKeys } from './sources/signing/signed-authority.js';
export { InvalidSourceError, SourceSignatureError } from './sources/errors.js';
export { SOURCE_LIMITS } from './sources/bundle/limits.js';
export type { SourceLimits } from './sources/bundle/limits.js';
export type { SourceStatus } from './sources/registry.js';
export type { SourceOptions } from './system/system-options.js';
export type { ActorSystemOptions, MessageEndpoint, SystemStatus, BaseName, Startup, ActorSystemClient, ConnectOptions } from './system/system.js';
export type { ConventionStatusEntry } from './net/convention.js';
export type { KernelStatus } from './core/kernel.js';
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
  SystemConnectionError,
} from './errors.js';
