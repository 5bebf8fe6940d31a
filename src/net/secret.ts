/**
 * Authentication of links and clients: with a `secret`, every connection to
 * an admin port is TLS 1.3 with a pre-shared key derived from it. Both sides
 * prove they hold the secret during the handshake (a wrong key fails the PSK
 * binder check before a single application byte is exchanged), and the
 * traffic is encrypted and integrity-checked, without certificates or a CA.
 *
 * The key is HKDF-SHA256 of the secret with a fixed, versioned label, so the
 * secret itself never reaches the wire or the TLS library. The PSK identity
 * is a constant: there is one key per convention.
 */
import { hkdfSync } from 'node:crypto';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { ThespisError } from '../errors.js';

const PSK_IDENTITY = 'thespis-v1';
const CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256';

export function derivePsk(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('thespis convention'), Buffer.from('tls13 psk v1'), 32));
}

export function serverTlsOptions(psk: Buffer): TlsOptions {
  return {
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHERS,
    // An unknown identity gets a key that cannot match: the handshake then
    // fails the same way as a wrong secret, and says nothing more.
    pskCallback: (_socket, identity) => (identity === PSK_IDENTITY ? psk : Buffer.alloc(32)),
  };
}

export function clientTlsOptions(psk: Buffer): ConnectionOptions {
  return {
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: CIPHERS,
    pskCallback: () => ({ psk, identity: PSK_IDENTITY }),
    // There is no certificate to check: the PSK proves the server.
    checkServerIdentity: () => undefined,
  };
}

/** Why a TLS handshake from a client failed, in words for the log. */
export function describeTlsFailure(error: Error & { code?: string }): string {
  switch (error.code) {
    case 'ERR_SSL_BINDER_DOES_NOT_VERIFY':
    case 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC':
    case 'ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER':
      return 'it does not hold the convention secret (TLS-PSK key mismatch)';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return 'it did not start TLS (no secret, or not a thespis peer)';
    case 'ERR_SSL_NO_SHARED_CIPHER':
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
      return 'it offered no TLS 1.3 pre-shared-key suite (no secret, or not a thespis peer)';
    default:
      return `the TLS handshake failed (${error.code ?? error.message})`;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** `start` refuses to listen beyond loopback without a secret unless told `insecure`. */
export function checkExposure(host: string, secret: string | undefined, insecure: boolean | undefined): void {
  if (secret !== undefined || insecure === true || isLoopback(host)) return;
  throw new ThespisError(
    `refusing to open the admin port on ${host} without a secret: anyone who can reach it could run code in this system. ` +
      'Give `secret` (or THESPIS_SECRET), or `insecure: true` if the network is trusted.',
  );
}
