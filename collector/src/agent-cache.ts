/**
 * Cache of enrolled agents for ingest: the store row and its public key parsed once into a Node
 * KeyObject (parsing PEM per request would dominate signature verification).
 *
 * Key parsing: an RSA SubjectPublicKeyInfo PEM (what enrollment stores) is read here (base64, DER:
 * modulus and exponent) and imported as a JWK, about 8 us against about 150 us for
 * createPublicKey(pem), whose OpenSSL 3 decoder chain tries formats in turn: after a restart every
 * agent's key is parsed again within one heartbeat period (100,000 keys in the first minute). Any
 * other PEM (another key type, an unexpected layout) goes to createPublicKey as before. A row's key
 * is reused while its PEM is the same (keyed by agent id and PEM, never by the PEM alone).
 *
 * Contract: an entry lives `ttlMs` (so a revocation made by another collector process takes effect
 * within that time; `invalidate()` makes it immediate in this process); at most `max` entries, least
 * recently used evicted. Unknown agents are not cached (a later enrollment is seen at once).
 * Store errors propagate to the caller (-> 503).
 *
 * Over a store that can tell whether an agent row may have changed (`agentsMayHaveChanged`:
 * SQLite, whose one writer is this process) entries outlive `ttlMs`: at most every `ttlMs` the
 * cache asks, and drops every entry when the store revoked or restored an agent, or another process
 * committed, meanwhile (a second collector on the same file: then no entry outlives `ttlMs`
 * either). So a revocation takes effect within `ttlMs` as before, at once after `invalidate()`.
 * In bench:fleet at 100,000 endpoints (a heartbeat a minute each) the row read of an expired entry
 * was every heartbeat's: 41k statements in 28 s, 35 us each, ~5 % of the event loop.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { AgentRow, Store } from './store/types.js';

export interface CachedAgent {
  row: AgentRow;
  publicKey: KeyObject;
}

interface Entry {
  agent: CachedAgent;
  expiresAtMs: number;
}

/** LRU + TTL cache of agent rows and keys in front of `store.getAgent`. */
export class AgentCache {
  private readonly entries = new Map<string, Entry>();

  /** When the cache last asked `agentsMayHaveChanged` (ms). */
  private checkedAtMs = -Infinity;

  constructor(
    private readonly store: Pick<Store, 'getAgent' | 'agentsMayHaveChanged'>,
    private readonly opts: { ttlMs: number; max: number; now: () => number },
  ) {}

  /** The agent and its key, or null when the store does not know it. */
  async get(agentId: string): Promise<CachedAgent | null> {
    const now = this.opts.now();
    const mayHaveChanged = this.store.agentsMayHaveChanged;
    if (mayHaveChanged && now - this.checkedAtMs >= this.opts.ttlMs) {
      this.checkedAtMs = now;
      if (mayHaveChanged.call(this.store)) this.entries.clear();
    }
    const hit = this.entries.get(agentId);
    if (hit) {
      this.entries.delete(agentId);
      if (mayHaveChanged || hit.expiresAtMs > now) {
        this.entries.set(agentId, hit);
        return hit.agent;
      }
    }
    const row = await this.store.getAgent(agentId);
    if (!row) return null;
    const publicKey = hit && hit.agent.row.publicKeyPem === row.publicKeyPem ? hit.agent.publicKey : parsePublicKey(row.publicKeyPem);
    const agent = { row, publicKey };
    if (this.entries.size >= this.opts.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(agentId, { agent, expiresAtMs: now + this.opts.ttlMs });
    return agent;
  }

  /** Forget one agent (after revoke/restore/re-enroll in this process). */
  invalidate(agentId: string): void {
    this.entries.delete(agentId);
  }

  get size(): number {
    return this.entries.size;
  }
}

const PEM_SPKI = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\r?\n?$/;
/** AlgorithmIdentifier of rsaEncryption (OID 1.2.840.113549.1.1.1, NULL parameters). */
const RSA_ENCRYPTION_ALG = Buffer.from('300d06092a864886f70d0101010500', 'hex');

/** The public key of `pem` as a KeyObject: the fast path for RSA SPKI, createPublicKey otherwise (see header). */
export function parsePublicKey(pem: string): KeyObject {
  const rsa = rsaSpkiComponents(pem);
  if (rsa) {
    try {
      return createPublicKey({ key: { kty: 'RSA', n: rsa.n.toString('base64url'), e: rsa.e.toString('base64url') }, format: 'jwk' });
    } catch {
      // Not a key OpenSSL accepts from its components: let the PEM decoder judge it.
    }
  }
  return createPublicKey(pem);
}

/**
 * The modulus and public exponent (unsigned big-endian, no leading zero bytes) of an rsaEncryption
 * SubjectPublicKeyInfo in PEM, or null for anything else or anything not strict DER (definite
 * minimal lengths, every byte accounted for, positive minimal INTEGERs).
 */
export function rsaSpkiComponents(pem: string): { n: Buffer; e: Buffer } | null {
  const m = PEM_SPKI.exec(pem);
  if (!m) return null;
  const der = Buffer.from(m[1]!.replace(/[\r\n]/g, ''), 'base64');
  // base64 that does not round-trip (stray '=' inside, bad padding) is left to OpenSSL.
  if (der.toString('base64') !== m[1]!.replace(/[\r\n]/g, '')) return null;
  const spki = readTlv(der, 0, 0x30);
  if (!spki || spki.end !== der.length) return null;
  if (der.length < spki.start + RSA_ENCRYPTION_ALG.length || !der.subarray(spki.start, spki.start + RSA_ENCRYPTION_ALG.length).equals(RSA_ENCRYPTION_ALG)) return null;
  const bits = readTlv(der, spki.start + RSA_ENCRYPTION_ALG.length, 0x03);
  if (!bits || bits.end !== spki.end || bits.end - bits.start < 1 || der[bits.start] !== 0) return null;
  const rsaKey = readTlv(der, bits.start + 1, 0x30);
  if (!rsaKey || rsaKey.end !== bits.end) return null;
  const n = readTlv(der, rsaKey.start, 0x02);
  if (!n) return null;
  const e = readTlv(der, n.end, 0x02);
  if (!e || e.end !== rsaKey.end) return null;
  const nBytes = positiveInteger(der, n.start, n.end);
  const eBytes = positiveInteger(der, e.start, e.end);
  return nBytes && eBytes ? { n: nBytes, e: eBytes } : null;
}

/** One DER TLV of `tag` at `at`: its contents' [start, end), or null (other tag, bad or non-minimal length, past the end). */
function readTlv(der: Buffer, at: number, tag: number): { start: number; end: number } | null {
  if (at + 2 > der.length || der[at] !== tag) return null;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const octets = len & 0x7f;
    if (octets === 0 || octets > 3 || start + octets > der.length || der[start] === 0) return null;
    len = 0;
    for (let i = 0; i < octets; i++) len = len * 256 + der[start + i]!;
    if (len < 0x80) return null;
    start += octets;
  }
  const end = start + len;
  return end <= der.length ? { start, end } : null;
}

/** The magnitude of a positive minimal DER INTEGER in der[start, end), or null (empty, negative, zero-padded). */
function positiveInteger(der: Buffer, start: number, end: number): Buffer | null {
  if (end <= start || der[start]! & 0x80) return null;
  if (der[start] === 0) {
    if (end - start === 1 || !(der[start + 1]! & 0x80)) return null;
    start++;
  }
  return der.subarray(start, end);
}
