/**
 * A signer node-forge can use in `cert.sign(signer, md)` / `csr.sign(signer, md)` whose RSA
 * private-key operation runs in Node's native crypto (node-forge's pure-JS one takes about a second
 * per signature on a small machine). RSASSA-PKCS1-v1_5 with SHA-256: the private-key operation with
 * type-1 padding over the DigestInfo. Structural: no dependency on node-forge here.
 */
import { constants, createPrivateKey, privateEncrypt, type KeyObject } from 'node:crypto';

/** DER prefix of a SHA-256 DigestInfo. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** The part of a node-forge message digest the signer reads. */
export interface ForgeDigestLike {
  algorithm: string;
  digest(): { getBytes(): string };
}

/** Pass an instance where node-forge expects an RSA private key for signing (cast as needed). */
export class NativeRsaSigner {
  private readonly key: KeyObject;
  constructor(key: KeyObject | string) {
    this.key = typeof key === 'string' ? createPrivateKey(key) : key;
  }

  /** node-forge's `key.sign(md)`: returns the signature as a binary string. */
  sign(md: ForgeDigestLike): string {
    if (md.algorithm !== 'sha256') throw new Error(`NativeRsaSigner: unsupported digest ${md.algorithm} (sha256 only)`);
    const digest = Buffer.from(md.digest().getBytes(), 'binary');
    return privateEncrypt({ key: this.key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest])).toString('binary');
  }
}
