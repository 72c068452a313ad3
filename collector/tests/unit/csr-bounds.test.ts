/**
 * Issue 10 item 11: a CSR's key size and public exponent are bounded before any RSA arithmetic
 * (node-forge's verify of a 16k-bit modulus or a huge exponent holds the event loop for minutes).
 * The crafted CSRs carry fake key bytes and a garbage signature: only a check that runs before
 * verification can name the key as the reason.
 */
import { makeCsr, pooledKeyPair } from '@mcpwatch/testkit';
import { checkCsrBounds, MAX_CSR_PEM_CHARS } from '../../src/ca/certificate-authority.js';
import { loadCaForTests } from '../support/ca-cache.js';
import { craftedCsr } from '../support/crafted-csr.js';

function codeAndMessage(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('expected a throw');
}

describe('CSR bounds (before any crypto)', () => {
  const ca = loadCaForTests();

  test.each([
    ['a 16384-bit modulus', { modulusBits: 16384, exponent: 65537n }, /at most 4096 bits, got 16384/],
    ['a 8192-bit modulus', { modulusBits: 8192, exponent: 65537n }, /at most 4096 bits, got 8192/],
    ['a 4097-bit modulus', { modulusBits: 4097, exponent: 65537n }, /at most 4096 bits, got 4097/],
    ['a 1536-bit modulus', { modulusBits: 1536, exponent: 65537n }, /at least 2048/],
    ['a 4096-bit exponent', { modulusBits: 2048, exponent: (1n << 4095n) + 1n }, /exponent/],
    ['an exponent just over 2^32', { modulusBits: 2048, exponent: (1n << 32n) + 1n }, /exponent/],
    ['an even exponent', { modulusBits: 2048, exponent: 65536n }, /exponent/],
    ['exponent 1', { modulusBits: 2048, exponent: 1n }, /exponent/],
  ])('refuses %s with MCPW_ERR_CSR_INVALID naming the key', (_what, opts, message) => {
    const pem = craftedCsr(opts);
    const r = codeAndMessage(() => ca.issueAgentCertificate(pem, 'ag_x', 1));
    expect(r.code).toBe('MCPW_ERR_CSR_INVALID');
    expect(r.message).toMatch(message);
  });

  test('a huge exponent in a large modulus is refused as well (the worst case for forge)', () => {
    const pem = craftedCsr({ modulusBits: 4096, exponent: (1n << 4000n) + 1n });
    expect(codeAndMessage(() => checkCsrBounds(pem)).message).toMatch(/exponent/);
  });

  test('an oversized PEM is refused before it is decoded', () => {
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(MAX_CSR_PEM_CHARS)}\n-----END CERTIFICATE REQUEST-----\n`;
    const r = codeAndMessage(() => ca.issueAgentCertificate(pem, 'ag_x', 1));
    expect(r.code).toBe('MCPW_ERR_CSR_INVALID');
    expect(r.message).toMatch(/larger than/);
  });

  test('DER that is not a CSR is a parse error, not a crash', () => {
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(codeAndMessage(() => ca.issueAgentCertificate(pem, 'ag_x', 1))).toMatchObject({ code: 'MCPW_ERR_CSR_INVALID', message: expect.stringMatching(/does not parse/) });
  });

  test('in-bounds keys pass: a real 2048-bit CSR is issued; bounds alone accept 4096 bits and e = 3', () => {
    expect(ca.issueAgentCertificate(makeCsr(pooledKeyPair(0), 'x'), 'ag_ok', 1).certificatePem).toMatch(/BEGIN CERTIFICATE/);
    expect(() => checkCsrBounds(craftedCsr({ modulusBits: 4096, exponent: 65537n }))).not.toThrow();
    expect(() => checkCsrBounds(craftedCsr({ modulusBits: 2048, exponent: 3n }))).not.toThrow();
    expect(() => checkCsrBounds(craftedCsr({ modulusBits: 3072, exponent: (1n << 32n) - 1n }))).not.toThrow();
  });
});
