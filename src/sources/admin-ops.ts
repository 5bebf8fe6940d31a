/**
 * The admin's source requests (core/admin-request.ts), from actors, clients
 * and (sourceOpen only, see net/foreign.ts) other systems: checked for
 * shape first, as they may come from outside, then handed to the registry.
 * Archives are unpacked here, on the system's thread, so no other kernel
 * needs the archive readers.
 */
import { ActorAddress } from '../address.js';
import type { AdminOp } from '../core/admin-request.js';
import { systemOf } from '../core/flow/flow.js';
import { isSourceHash } from './bundle/canonical.js';
import { SourceReply } from './protocol.js';
import type { SourceRegistry } from './registry.js';

export type SourceOp = Extract<AdminOp, { op: 'sourceLoad' | 'sourceUnload' | 'sourceOpen' | 'sourceAuthority' | 'sourceNotify' }>;

export interface SourceOpsContext {
  readonly registry: SourceRegistry;
  /** Send from the admin's address. */
  send(to: ActorAddress, body: unknown): void;
  warn(message: string): void;
  readonly systemId: string;
}

/** `sender`: who sent the request (null from a kernel of this system; checked by net/foreign.ts when from another). */
export function handleSourceOp(op: SourceOp, sender: ActorAddress | null, ctx: SourceOpsContext): void {
  const { registry } = ctx;
  switch (op.op) {
    case 'sourceAuthority':
      if (op.address instanceof ActorAddress) registry.setAuthority(op.address);
      return;
    case 'sourceNotify':
      if (op.address instanceof ActorAddress) registry.watch(op.address, op.start !== false);
      return;
    case 'sourceOpen':
      if (!(op.reply instanceof ActorAddress)) return ctx.warn('a sourceOpen request without a reply address; dropped');
      // Another system fetches for itself: the answer (a whole source) goes
      // only to an endpoint of the system that asked.
      if (systemOf(op.reply.kernel) !== ctx.systemId && (sender === null || systemOf(sender.kernel) !== systemOf(op.reply.kernel))) {
        return ctx.warn(`a source fetch for ${op.reply.kernel} from ${String(sender?.kernel)}, another system; dropped`);
      }
      if (!isSourceHash(op.hash)) return ctx.send(op.reply, new SourceReply(undefined, `not a source hash: ${JSON.stringify(op.hash)}`, 'InvalidActorSpecError'));
      registry.open(op.hash, op.withBytes === true, op.reply);
      return;
    case 'sourceUnload': {
      const reply = op.reply instanceof ActorAddress ? op.reply : undefined;
      if (!isSourceHash(op.hash)) {
        if (reply) ctx.send(reply, new SourceReply(undefined, `not a source hash: ${JSON.stringify(op.hash)}`, 'TypeError'));
        return;
      }
      const found = registry.unload(op.hash);
      if (reply) ctx.send(reply, new SourceReply(op.hash, undefined, undefined, found));
      return;
    }
    case 'sourceLoad': {
      const reply = op.reply instanceof ActorAddress ? op.reply : undefined;
      const info = typeof op.info === 'string' ? op.info.slice(0, 1024) : undefined;
      if (!(op.bytes instanceof Uint8Array)) {
        if (reply) ctx.send(reply, new SourceReply(undefined, 'a source load needs the bytes of a source', 'TypeError'));
        return;
      }
      void import('./bundle/archives.js')
        .then(({ readSource }) => readSource(op.bytes))
        .then(
          (read) => {
            registry.load(read.hash, read.bytes, read.files.size, info);
            if (reply) ctx.send(reply, new SourceReply(read.hash));
          },
          (error: Error) => {
            ctx.warn(`a source load was refused: ${error.message}`);
            if (reply) ctx.send(reply, new SourceReply(undefined, error.message, error.name));
          },
        );
      return;
    }
  }
}
