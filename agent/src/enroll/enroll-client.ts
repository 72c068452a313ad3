/**
 * Enrollment: the agent's identity with the collector (DESIGN.md "Identity").
 *
 * enroll() makes an RSA-2048 key pair (Node crypto, native and fast) and a PKCS#10 CSR signed with
 * it (node-forge), POSTs `/v1/enroll` with the enroll secret as `Authorization: Bearer` (never in
 * a body, never stored by the agent, never logged), checks that the certificate it gets back
 * carries its own public key and was issued by the CA it got back, and stores in the state dir,
 * owner-only (0600 files in a 0700 dir on Unix; an icacls ACL for SYSTEM and Administrators on
 * Windows):
 *   agent-key.pem  agent-cert.pem  ca-cert.pem  enrollment.json (agentId, endpointId, server, pin,
 *   certificate validity, settings)
 * The files are written atomically; the key is written before enrollment.json, so a crash never
 * leaves an enrollment without its key.
 *
 * The collector is pinned by its CA, whatever the agent was given (http-client.ts): a fingerprint
 * must be the CA's (the root that issued the collector's server certificate); a server-certificate
 * (leaf) fingerprint is refused with MCPW_ERR_CERT_PIN_IS_LEAF before anything is sent.
 * enrollment.json's `caFingerprint` is the CA fingerprint the connection was accepted under, and
 * `collectorTrust()` gives later connections that pin plus the stored ca-cert.pem, so a renewed or
 * re-issued server certificate from the same CA is accepted. http is accepted only for loopback.
 * Failures are PipelineError MCPW_ERR_ENROLL (with the collector's code and message when it
 * answered) or MCPW_ERR_NETWORK / MCPW_ERR_CERT_PIN_MISMATCH / MCPW_ERR_CERT_PIN_IS_LEAF.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import type Forge from 'node-forge';
import type { AgentSettings, EnrollResponse, HostInfo } from '@mcpwatch/shared';
import { ensurePrivateDir, readJsonFile, writeFileDurable } from '../spool/durable-file.js';
import { HttpClient, checkCollectorUrl, jsonBody } from '../ship/http-client.js';
import { AgentCodes, PipelineError } from '../errors.js';
import { hostOs, type OsSpec } from '../platform/os.js';

export const FILES = {
  key: 'agent-key.pem',
  cert: 'agent-cert.pem',
  ca: 'ca-cert.pem',
  enrollment: 'enrollment.json',
} as const;

/** What enrollment.json holds. */
export interface EnrollmentRecord {
  agentId: string;
  endpointId: string;
  server: string;
  caFingerprint: string | null;
  enrolledAt: string;
  certNotBefore: string;
  certNotAfter: string;
  settings: AgentSettings;
}

/** A loaded identity, ready to sign. */
export interface AgentIdentity {
  record: EnrollmentRecord;
  privateKey: KeyObject;
}

export interface EnrollOptions {
  server: string;
  secret: string;
  /** SHA-256 fingerprint of the collector's CA (never its server certificate's). */
  caFingerprint?: string | null;
  /** The CA certificate (PEM) of an earlier enrollment, trusted as well (re-enrollment). */
  caPem?: string | null;
  stateDir: string;
  host: HostInfo;
  agentVersion: string;
  timeoutMs?: number;
  /** The OS whose owner-only permissions are applied (default: this machine's). */
  os?: OsSpec;
  now?: () => number;
}

/**
 * A PEM CSR for `privateKeyPem`, subject CN = hostname (the collector names the agent). node-forge
 * loads here, on first use: a running agent that is enrolled never needs it (about 2.5 MB of heap).
 */
export async function makeCsr(privateKeyPem: string, publicKeyPem: string, commonName: string): Promise<string> {
  const { default: forge } = await import('node-forge');
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  csr.setSubject([{ name: 'commonName', value: commonName.slice(0, 64) || 'mcpwatch-agent' }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKeyPem) as Forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Restricts a file or directory to its owner (Unix 0600/0700) or SYSTEM + Administrators + the
 * running account (Windows), through this machine's OsSpec. Throws when that fails.
 */
export function restrictToOwner(target: string, spec: OsSpec = hostOs()): void {
  spec.restrictToOwner(target);
}

function writePrivate(dir: string, name: string, data: string, spec: OsSpec): void {
  const file = path.join(dir, name);
  writeFileDurable(file, data, 0o600);
  restrictToOwner(file, spec);
}

/** Enrolls with the collector and stores the identity. See the module comment. */
export async function enroll(opts: EnrollOptions): Promise<AgentIdentity> {
  const spec = opts.os ?? hostOs();
  const url = checkCollectorUrl(opts.server);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const csr = await makeCsr(privateKeyPem, publicKeyPem, opts.host.hostname);
  const http = new HttpClient({ pinSha256: opts.caFingerprint ?? null, pinnedCaPem: opts.caPem ?? null, timeoutMs: opts.timeoutMs ?? 15_000 });
  let res;
  let anchor: string | null = null;
  try {
    res = await http.request({
      method: 'POST',
      url: new URL('/v1/enroll', url).toString(),
      headers: { authorization: `Bearer ${opts.secret}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ csr, host: opts.host, agentVersion: opts.agentVersion })),
    });
    anchor = http.pinnedAnchor;
  } finally {
    http.close();
  }
  const json = jsonBody<EnrollResponse & { code?: string; message?: string }>(res);
  if (res.status !== 200 || !json) {
    throw new PipelineError(
      AgentCodes.enroll,
      `enrollment refused by ${url.origin}: ${res.status} ${json?.code ?? ''} ${json?.message ?? ''}`.replace(/\s+/g, ' ').trim(),
      { status: res.status },
    );
  }
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(json.certificate);
    ca = new X509Certificate(json.caCertificate);
  } catch (e) {
    throw new PipelineError(AgentCodes.enroll, 'enrollment reply carries an unreadable certificate', { cause: e });
  }
  if (cert.publicKey.export({ type: 'spki', format: 'pem' }).toString() !== publicKeyPem) {
    throw new PipelineError(AgentCodes.enroll, 'enrollment reply: the certificate is not for this agent\'s key');
  }
  if (!cert.verify(ca.publicKey)) {
    throw new PipelineError(AgentCodes.enroll, 'enrollment reply: the certificate was not issued by the returned CA');
  }
  const record: EnrollmentRecord = {
    agentId: json.agentId,
    endpointId: json.endpointId,
    server: url.toString().replace(/\/$/, ''),
    // The CA the TLS connection was pinned to (http-client.ts): never the server certificate.
    caFingerprint: anchor,
    enrolledAt: new Date((opts.now ?? Date.now)()).toISOString(),
    certNotBefore: new Date(cert.validFrom).toISOString(),
    certNotAfter: new Date(cert.validTo).toISOString(),
    settings: json.settings ?? {},
  };
  ensurePrivateDir(opts.stateDir);
  restrictToOwner(opts.stateDir, spec);
  writePrivate(opts.stateDir, FILES.key, privateKeyPem, spec);
  writePrivate(opts.stateDir, FILES.cert, json.certificate, spec);
  writePrivate(opts.stateDir, FILES.ca, json.caCertificate, spec);
  writePrivate(opts.stateDir, FILES.enrollment, JSON.stringify(record, null, 2), spec);
  return { record, privateKey };
}

/** The stored identity, or null when not enrolled (or the files are unreadable). */
export function loadIdentity(stateDir: string): AgentIdentity | null {
  try {
    const record = readJsonFile<EnrollmentRecord>(path.join(stateDir, FILES.enrollment));
    if (!record || !record.agentId) return null;
    const privateKey = createPrivateKey(fs.readFileSync(path.join(stateDir, FILES.key), 'utf8'));
    return { record, privateKey };
  } catch {
    return null;
  }
}

/**
 * How to trust the collector after enrollment: the pinned CA fingerprint of the record and the CA
 * certificate stored with it (both name the CA, so a renewed server certificate is accepted).
 * A record without a pin (http on loopback, or system CAs) pins nothing.
 */
export function collectorTrust(identity: AgentIdentity | null, stateDir: string): { pinSha256: string | null; pinnedCaPem: string | null } {
  const pin = identity?.record.caFingerprint ?? null;
  if (!pin) return { pinSha256: null, pinnedCaPem: null };
  let pinnedCaPem: string | null = null;
  try {
    pinnedCaPem = fs.readFileSync(path.join(stateDir, FILES.ca), 'utf8');
  } catch {
    pinnedCaPem = null;
  }
  return { pinSha256: pin, pinnedCaPem };
}

/** true when the certificate expires within `renewBeforeDays` (or a third of its lifetime, if shorter). */
export function renewalDue(record: EnrollmentRecord, nowMs: number, renewBeforeDays: number): boolean {
  const notAfter = Date.parse(record.certNotAfter);
  const notBefore = Date.parse(record.certNotBefore);
  if (Number.isNaN(notAfter)) return true;
  const lifetime = Number.isNaN(notBefore) ? Infinity : notAfter - notBefore;
  const margin = Math.min(renewBeforeDays * 86_400_000, lifetime / 3);
  return nowMs >= notAfter - margin;
}
