import { constants, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { AgentCache, parsePublicKey, rsaSpkiComponents } from '../../src/agent-cache.js';
import type { AgentRow } from '../../src/store/types.js';

const rsaPem = (bits = 2048): string => generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

function row(agentId: string, publicKeyPem: string, over: Partial<AgentRow> = {}): AgentRow {
  return {
    agentId,
    endpointId: `ep-${agentId}`,
    hardwareUuid: null,
    hostname: 'h',
    certFingerprint: 'fp',
    publicKeyPem,
    certNotAfter: '2099-01-01T00:00:00.000Z',
    enrolledAt: '2026-01-01T00:00:00.000Z',
    revokedAt: null,
    enrollSecretName: 's',
    lastSeq: 0,
    lastHash: '',
    duplicateOf: null,
    ...over,
  };
}

describe('parsePublicKey', () => {
  test.each([1024, 2048, 3072])('an RSA SPKI PEM (%i bits) gives the key createPublicKey gives', (bits) => {
    const pair = generateKeyPairSync('rsa', { modulusLength: bits });
    const pem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(rsaSpkiComponents(pem)).not.toBeNull();
    const key = parsePublicKey(pem);
    expect(key.asymmetricKeyType).toBe('rsa');
    expect(key.export({ format: 'jwk' })).toEqual(createPublicKey(pem).export({ format: 'jwk' }));
    expect(key.export({ type: 'spki', format: 'pem' })).toBe(pem);
    const data = Buffer.from('mcpwatch-batch-v1\na\n1\n2\nabc');
    const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    const sig = sign('sha256', data, { key: pair.privateKey, ...pss });
    expect(verify('sha256', data, { key, ...pss }, sig)).toBe(true);
    expect(verify('sha256', Buffer.from('other'), { key, ...pss }, sig)).toBe(false);
  });

  test('CRLF line ends and a PEM without its last newline take the fast path too', () => {
    const pem = rsaPem();
    for (const variant of [pem.replace(/\n/g, '\r\n'), pem.trimEnd()]) {
      expect(rsaSpkiComponents(variant)).not.toBeNull();
      expect(parsePublicKey(variant).export({ format: 'jwk' })).toEqual(createPublicKey(pem).export({ format: 'jwk' }));
    }
  });

  test('other key types and layouts go to createPublicKey (same key), and what it refuses still throws', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(rsaSpkiComponents(ec)).toBeNull();
    expect(parsePublicKey(ec).asymmetricKeyType).toBe('ec');
    const pkcs1 = createPublicKey(rsaPem()).export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(rsaSpkiComponents(pkcs1)).toBeNull();
    expect(parsePublicKey(pkcs1).export({ format: 'jwk' })).toEqual(createPublicKey(pkcs1).export({ format: 'jwk' }));
    expect(() => parsePublicKey('not a key')).toThrow();
    const pem = rsaPem();
    const body = pem.split('\n').slice(1, -2).join('');
    const der = Buffer.from(body, 'base64');
    const wrap = (b: Buffer) => `-----BEGIN PUBLIC KEY-----\n${b.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;
    // Truncated, or with a byte appended: not strict DER here, so OpenSSL decides, as before.
    const truncated = wrap(der.subarray(0, der.length - 1));
    expect(rsaSpkiComponents(truncated)).toBeNull();
    expect(() => parsePublicKey(truncated)).toThrow();
    const appended = wrap(Buffer.concat([der, Buffer.from([0])]));
    expect(rsaSpkiComponents(appended)).toBeNull();
    const outcome = (f: () => KeyObject) => {
      try {
        return f().export({ format: 'jwk' });
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(outcome(() => parsePublicKey(appended))).toEqual(outcome(() => createPublicKey(appended)));
    const unusedBits = Buffer.from(der);
    unusedBits[unusedBits.indexOf(0x03, 15) + 4] = 1; // the BIT STRING's unused-bits octet
    expect(rsaSpkiComponents(wrap(unusedBits))).toBeNull();
  });
});

describe('AgentCache', () => {
  function cacheOver(rows: Map<string, AgentRow>, ttlMs = 1000) {
    let now = 0;
    const reads: string[] = [];
    const cache = new AgentCache({ getAgent: async (id: string) => (reads.push(id), rows.get(id) ?? null) }, { ttlMs, max: 10, now: () => now });
    return { cache, reads, advance: (ms: number) => (now += ms) };
  }

  test('a store whose only writer is this process (agentsMayHaveChanged): rows outlive the TTL until another process writes', async () => {
    const rows = new Map([['a', row('a', rsaPem())], ['b', row('b', rsaPem())]]);
    let now = 0;
    let others = false;
    const reads: string[] = [];
    const asked: number[] = [];
    const store = { getAgent: async (id: string) => (reads.push(id), rows.get(id) ?? null), agentsMayHaveChanged: () => (asked.push(now), others) };
    const cache = new AgentCache(store, { ttlMs: 1000, max: 10, now: () => now });
    await cache.get('a');
    await cache.get('b');
    now += 60_000; // a heartbeat period later: still cached, the store asked once per TTL at most
    await cache.get('a');
    await cache.get('b');
    expect(reads).toEqual(['a', 'b']);
    expect(asked).toEqual([0, 60_000]);
    // This process revokes: its route invalidates the entry, the next request reads the row.
    rows.set('a', row('a', rows.get('a')!.publicKeyPem, { revokedAt: '2026-02-02T00:00:00.000Z' }));
    cache.invalidate('a');
    expect((await cache.get('a'))!.row.revokedAt).toBe('2026-02-02T00:00:00.000Z');
    // Another process committed: every entry goes at the next check (within a TTL).
    others = true;
    now += 500;
    await cache.get('b');
    expect(reads).toEqual(['a', 'b', 'a']);
    now += 500;
    await cache.get('b');
    expect(reads).toEqual(['a', 'b', 'a', 'b']);
  });

  test('a row is read once per TTL; its parsed key outlives the TTL while the PEM is the same', async () => {
    const rows = new Map([['a', row('a', rsaPem())]]);
    const { cache, reads, advance } = cacheOver(rows);
    const first = (await cache.get('a'))!;
    expect((await cache.get('a'))!.publicKey).toBe(first.publicKey);
    expect(reads).toEqual(['a']);
    advance(1001);
    rows.set('a', row('a', rows.get('a')!.publicKeyPem, { revokedAt: '2026-02-02T00:00:00.000Z' }));
    const again = (await cache.get('a'))!;
    expect(reads).toEqual(['a', 'a']);
    expect(again.row.revokedAt).toBe('2026-02-02T00:00:00.000Z'); // the fresh row
    expect(again.publicKey).toBe(first.publicKey); // not parsed again
  });

  test('a new PEM under the same agent id (re-enrollment) is parsed again, never reused by key text across agents', async () => {
    const pemA = rsaPem();
    const pemB = rsaPem();
    const rows = new Map([
      ['a', row('a', pemA)],
      ['b', row('b', pemA)],
    ]);
    const { cache, advance } = cacheOver(rows);
    const a1 = (await cache.get('a'))!.publicKey;
    const b1 = (await cache.get('b'))!.publicKey;
    expect(b1).not.toBe(a1); // same key text, other agent: its own KeyObject
    rows.set('a', row('a', pemB));
    advance(1001);
    const a2: KeyObject = (await cache.get('a'))!.publicKey;
    expect(a2).not.toBe(a1);
    expect(a2.export({ format: 'jwk' })).toEqual(createPublicKey(pemB).export({ format: 'jwk' }));
  });

  test('invalidate() forgets at once; unknown agents are not cached', async () => {
    const rows = new Map<string, AgentRow>();
    const { cache, reads } = cacheOver(rows);
    expect(await cache.get('x')).toBeNull();
    rows.set('x', row('x', rsaPem()));
    expect(await cache.get('x')).not.toBeNull(); // enrolled meanwhile: seen at once
    rows.set('x', row('x', rows.get('x')!.publicKeyPem, { revokedAt: '2026-02-02T00:00:00.000Z' }));
    cache.invalidate('x');
    expect((await cache.get('x'))!.row.revokedAt).not.toBeNull();
    expect(reads).toEqual(['x', 'x', 'x']);
  });
});
