/**
 * The answers of the admin's source requests (core/admin-request.ts): they
 * travel to kernels of every kind and to other systems, as registered
 * classes, so user data is never mistaken for one.
 */
import { registerMessage } from '../messages.js';

/** Answer to `sourceLoad` / `sourceUnload`: the hash, or why not. */
export class SourceReply {
  constructor(
    readonly hash: string | undefined,
    readonly error: string | undefined = undefined,
    readonly errorName: string | undefined = undefined,
    /** `sourceUnload`: whether the hash was loaded. */
    readonly found: boolean = false,
  ) {}
}

/**
 * Answer to `sourceOpen`: the source may be used (with its modules'
 * canonical bytes when asked for, and the URL its bare imports resolve
 * from), or `error` says why not (unknown, rejected, unloaded, expired).
 */
export class SourceOpened {
  constructor(
    readonly hash: string,
    readonly error: string | undefined,
    readonly bytes: Uint8Array | undefined = undefined,
    readonly resolveFrom: string | undefined = undefined,
  ) {}
}

registerMessage(SourceReply, 'thespis.internal.SourceReply');
registerMessage(SourceOpened, 'thespis.internal.SourceOpened');
