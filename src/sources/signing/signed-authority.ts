/**
 * SignedSourceAuthority: a source authority (an actor) that accepts only
 * sources signed (signing.ts) with an Ed25519 key it trusts. It registers
 * itself when created. Trusted keys come from the class (`static
 * trustedKeys`, for a subclass that fixes them) and from TrustSourceKeys
 * messages (answered with the number of keys trusted).
 *
 *   const authority = await system.createActor(SignedSourceAuthority);
 *   await system.ask(authority, new TrustSourceKeys([publicKeyPem]), 5000);
 */
import type { KeyObject } from 'node:crypto';
import { Actor } from '../../actor.js';
import type { ActorAddress } from '../../address.js';
import { registerMessage, ValidatedSource, ValidateSource } from '../../messages.js';
import { decodeCanonical } from '../bundle/canonical.js';
import { publicKeyText, verifyFiles, type KeyText } from './signing.js';

/** Tells a SignedSourceAuthority to trust these public keys (PEM, or raw base64url). */
export class TrustSourceKeys {
  constructor(readonly keys: readonly string[]) {}
}

registerMessage(TrustSourceKeys, 'thespis.TrustSourceKeys');

export class SignedSourceAuthority extends Actor {
  static override module = import.meta.url;
  /** Keys every instance trusts from the start (set in a subclass). */
  static trustedKeys: readonly KeyText[] = [];
  private readonly trusted = new Map<string, KeyText>();

  constructor() {
    super();
    for (const key of (new.target as typeof SignedSourceAuthority).trustedKeys) this.trust(key);
    this.registerSourceAuthority();
  }

  receiveMessage(message: unknown, sender: ActorAddress): void {
    if (message instanceof ValidateSource) {
      this.send(sender, this.validate(message));
    } else if (message instanceof TrustSourceKeys) {
      for (const key of message.keys) this.trust(key);
      this.send(sender, this.trusted.size);
    }
  }

  private trust(key: KeyText | KeyObject): void {
    this.trusted.set(publicKeyText(key), key);
  }

  private validate(request: ValidateSource): ValidatedSource {
    try {
      const { key } = verifyFiles(decodeCanonical(request.sourceData), [...this.trusted.values()]);
      return new ValidatedSource(request.sourceHash, request.sourceData, `signed by ${key}`);
    } catch (error) {
      this.log.warn(`source ${request.sourceHash} rejected: ${(error as Error).message}`);
      return new ValidatedSource(request.sourceHash, undefined, (error as Error).message);
    }
  }
}
