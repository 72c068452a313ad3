import { generateKeyPairSync } from 'node:crypto';
import { signBatch, verifyBatch, verifyBatchAsync, signingString } from '../../src/signing.js';
import { canonicalJson, sha256Hex } from '../../src/protocol/hash.js';

describe('batch signing', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const body = Buffer.from('{"hello":"world"}');

  it('builds the documented signing string', () => {
    expect(signingString('a1', 7, 1700000000000, body)).toBe(
      `mcpwatch-batch-v1\na1\n7\n1700000000000\n${sha256Hex(body)}`,
    );
  });

  it('verifies its own signature and rejects any change', () => {
    const sig = signBatch(privateKey, 'a1', 7, 1700000000000, body);
    expect(verifyBatch(publicKey, 'a1', 7, 1700000000000, body, sig)).toBe(true);
    expect(verifyBatch(publicKey, 'a1', 8, 1700000000000, body, sig)).toBe(false);
    expect(verifyBatch(publicKey, 'a2', 7, 1700000000000, body, sig)).toBe(false);
    expect(verifyBatch(publicKey, 'a1', 7, 1700000000001, body, sig)).toBe(false);
    expect(verifyBatch(publicKey, 'a1', 7, 1700000000000, Buffer.from('{"hello":"World"}'), sig)).toBe(false);
    expect(verifyBatch(publicKey, 'a1', 7, 1700000000000, body, 'not-base64!!')).toBe(false);
  });

  it('verifies on the thread pool with the same answers as verifyBatch', async () => {
    const sig = signBatch(privateKey, 'a1', 7, 1700000000000, body);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const cases: Array<[Parameters<typeof verifyBatch>, boolean]> = [
      [[publicKey, 'a1', 7, 1700000000000, body, sig], true],
      [[publicKey, 'a1', 8, 1700000000000, body, sig], false],
      [[publicKey, 'a2', 7, 1700000000000, body, sig], false],
      [[publicKey, 'a1', 7, 1700000000001, body, sig], false],
      [[publicKey, 'a1', 7, 1700000000000, Buffer.from('{"hello":"World"}'), sig], false],
      [[other, 'a1', 7, 1700000000000, body, sig], false],
      [[publicKey, 'a1', 7, 1700000000000, body, 'not-base64!!'], false],
      [[publicKey, 'a1', 7, 1700000000000, body, ''], false],
      [[publicKey, 'a1', 7, 1700000000000, body, sig.slice(0, 20)], false],
    ];
    for (const [args, expected] of cases) {
      expect(verifyBatch(...args)).toBe(expected);
      await expect(verifyBatchAsync(...args)).resolves.toBe(expected);
    }
    // A key that is not an RSA public key: false, not a throw or a rejection.
    await expect(verifyBatchAsync('not a key', 'a1', 7, 1700000000000, body, sig)).resolves.toBe(false);
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
});
