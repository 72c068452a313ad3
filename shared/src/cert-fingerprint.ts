/**
 * Certificate fingerprints as the collector prints them and agents pin them: lower-case hex
 * SHA-256 of the certificate's DER bytes (the same value `openssl x509 -fingerprint -sha256`
 * shows, without colons). Pure: decodes the PEM's base64 body, no I/O.
 */
import { sha256Hex } from './protocol/hash.js';

/** SHA-256 hex of the DER of the first certificate in `pem`. Throws on text with no certificate. */
export function certificateFingerprint(pem: string): string {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('no PEM certificate found');
  const der = Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
  return sha256Hex(der);
}

/** `AB:CD:...` form of a hex fingerprint (as browsers and openssl print it). */
export function colonFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/.{2}/g) ?? []).join(':');
}
