/**
 * Containment command signatures (command-signing.ts): a command signed with a key verifies under
 * its public key or certificate-less public key; any changed field, another key, another endpoint
 * or a passed expiry is refused with its reason; the signing string is versioned and refuses
 * newlines; the SignedCommand schema is closed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { commandSigningString, signCommand, SignedCommand, verifyCommand, type UnsignedCommand } from '../../src/index.js';

// TypeBox's Value knows no formats by itself (the collector validates with Ajv + ajv-formats).
FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const NOW = Date.parse('2026-06-01T12:00:00Z');
const cmd: UnsignedCommand = {
  id: 'cmd_01J0000000000000000000000',
  endpointId: 'ep-1',
  action: 'quarantine',
  serverKey: 'sk-1',
  issuedAt: '2026-06-01T12:00:00.000Z',
  expiresAt: '2026-06-02T12:00:00.000Z',
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
};

describe('command signing', () => {
  test('signs and verifies; the schema accepts exactly the signed form', () => {
    const signed = signCommand(privateKey, cmd);
    expect(verifyCommand(publicKey, signed, 'ep-1', NOW)).toEqual({ ok: true });
    expect(Value.Check(SignedCommand, signed)).toBe(true);
    expect(Value.Check(SignedCommand, { ...signed, extra: 1 })).toBe(false);
    expect(commandSigningString(cmd).split('\n')[0]).toBe('mcpwatch-command-v1');
  });

  test('refuses tampering, another key, another endpoint and expiry, saying which', () => {
    const signed = signCommand(privateKey, cmd);
    for (const field of ['id', 'endpointId', 'serverKey', 'issuedAt', 'expiresAt', 'nonce'] as const) {
      expect(verifyCommand(publicKey, { ...signed, [field]: `${signed[field]}x` }, 'ep-1', NOW)).toMatchObject({ ok: false, reason: 'signature-invalid' });
    }
    expect(verifyCommand(publicKey, { ...signed, action: 'restore' }, 'ep-1', NOW)).toMatchObject({ ok: false, reason: 'signature-invalid' });
    expect(verifyCommand(other.publicKey, signed, 'ep-1', NOW)).toMatchObject({ ok: false, reason: 'signature-invalid' });
    expect(verifyCommand(publicKey, { ...signed, signature: 'not base64 !' }, 'ep-1', NOW)).toMatchObject({ ok: false, reason: 'signature-invalid' });
    expect(verifyCommand(publicKey, signed, 'ep-2', NOW)).toMatchObject({ ok: false, reason: 'wrong-endpoint' });
    expect(verifyCommand(publicKey, signed, 'ep-1', Date.parse(cmd.expiresAt) + 1)).toMatchObject({ ok: false, reason: 'expired' });
  });

  test('a newline in a field cannot be signed (no field can spill into the next)', () => {
    expect(() => signCommand(privateKey, { ...cmd, serverKey: 'a\nb' })).toThrow(RangeError);
  });
});
