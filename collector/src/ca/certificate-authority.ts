/**
 * The collector's certificate authority (node-forge).
 *
 * Contract:
 * - `loadOrCreateCa()` loads the CA from configured PEM files (caCertFile/caKeyFile: what several
 *   collectors behind a load balancer share), or from `dataDir/ca/`, creating it there on first start:
 *   directory 0700, files 0600, written to temporary names and renamed so a crash never leaves half a
 *   CA. A directory with only one of the two files is an error (MCPW_ERR_CA), never silently replaced.
 * - `issueAgentCertificate()` verifies a PEM PKCS#10 CSR (self-signature, RSA 2048..4096 bits) and
 *   issues a client certificate whose subject CN is the agent id. A bad CSR is MCPW_ERR_CSR_INVALID.
 *   Before any RSA arithmetic (node-forge's pure-JS verify of a huge modulus or exponent holds the
 *   event loop for minutes) `checkCsrBounds()` refuses, from the DER alone, a PEM over
 *   MAX_CSR_PEM_CHARS, a key that is not RSA, a modulus outside 2048..4096 bits and a public
 *   exponent that is not odd in 3..2^32.
 * - `issueServerCertificate()` issues a server certificate for the embedded HTTPS listener.
 *   `loadOrCreateServerCertificate()` keeps it, with its key, in `dataDir/ca/` (server-cert.pem,
 *   server-key.pem; 0600 files in the 0700 dir, written atomically), so a restart serves the same
 *   certificate. It is issued again, under the SAME CA (never a new CA), when it is missing or
 *   unreadable, was not issued by the current CA, does not carry the key, names other hosts/IPs
 *   than the configured serverNames, is not yet valid, or has less than `renewBeforeDays` (30) left.
 *   Agents pin the CA's fingerprint, never this certificate's, so a renewal never breaks them.
 * Keys are generated and certificates signed with Node's crypto (native; node-forge's pure-JS RSA
 * private-key operation takes about a second on a small machine); node-forge builds the certificate
 * structures and parses/verifies CSRs.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { certificateFingerprint, NativeRsaSigner, signCommand, type SignedCommand, type UnsignedCommand } from '@mcpwatch/shared';
import { Errors } from '../errors.js';

const { pki } = forge;

/** A certificate issued to an agent. */
export interface IssuedAgentCertificate {
  certificatePem: string;
  publicKeyPem: string;
  /** SHA-256 hex of the certificate DER. */
  fingerprint: string;
  notAfter: string;
}

/** A server certificate and its key, PEM. */
export interface ServerCertificate {
  certificatePem: string;
  keyPem: string;
  fingerprint: string;
  /** When it stops being valid (ISO 8601). */
  notAfter: string;
}

/** Why the embedded server certificate in the data dir was (or was not) issued at this start. */
export type ServerCertificateOrigin = 'kept' | 'created' | 'renewed' | 'names-changed' | 'ca-changed' | 'unreadable';

/** The embedded server certificate as loadOrCreateServerCertificate() left it. */
export interface StoredServerCertificate extends ServerCertificate {
  origin: ServerCertificateOrigin;
}

/** Renew the embedded server certificate when it has fewer days than this left. */
export const SERVER_CERT_RENEW_BEFORE_DAYS = 30;
/** Lifetime of an embedded server certificate (the longest browsers accept). */
export const SERVER_CERT_VALIDITY_DAYS = 397;

export interface CaLocation {
  dataDir: string;
  caCertFile?: string;
  caKeyFile?: string;
}

const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;
/** Largest public exponent accepted (65537 is what every key generator uses). */
const MAX_RSA_EXPONENT = 2n ** 32n;
/** Largest CSR accepted, PEM characters (a 4096-bit CSR with a long subject is under 3 KiB). */
export const MAX_CSR_PEM_CHARS = 16 * 1024;
const DAY_MS = 86_400_000;

/** A loaded CA that issues agent and server certificates. */
export class CertificateAuthority {
  readonly certificatePem: string;
  /** SHA-256 hex of the CA certificate DER: what agents pin. */
  readonly fingerprint: string;
  /** Where it came from: 'created' on first start, 'data-dir' or 'files'. */
  readonly origin: 'created' | 'data-dir' | 'files';
  private readonly cert: forge.pki.Certificate;
  private readonly key: NativeRsaSigner;
  /** The CA key as a Node KeyObject: signs containment commands (shared command-signing.ts). */
  readonly #commandKey: KeyObject;

  constructor(certificatePem: string, keyPem: string, origin: CertificateAuthority['origin']) {
    let keyObject: KeyObject;
    try {
      this.cert = pki.certificateFromPem(certificatePem);
      keyObject = createPrivateKey(keyPem);
    } catch (e) {
      throw Errors.ca(`cannot parse the CA certificate or key: ${(e as Error).message}`, { cause: e });
    }
    const certKey = createPublicKey(certificatePem).export({ type: 'spki', format: 'der' });
    const ownKey = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
    if (!certKey.equals(ownKey)) throw Errors.ca('the CA key does not belong to the CA certificate');
    this.key = new NativeRsaSigner(keyObject);
    this.#commandKey = keyObject;
    this.certificatePem = certificatePem;
    this.fingerprint = certificateFingerprint(certificatePem);
    this.origin = origin;
  }

  /**
   * Signs a containment command with the CA key, which every agent pinned at enrollment
   * (`caCertificate`); the signing string is versioned (mcpwatch-command-v1), so it cannot pass
   * for a certificate or batch signature.
   */
  signCommand(command: UnsignedCommand): SignedCommand {
    return signCommand(this.#commandKey, command);
  }

  /**
   * Verifies `csrPem` and issues a client certificate naming `agentId` (subject CN), valid for
   * `validityDays` from `now`. Throws MCPW_ERR_CSR_INVALID for a CSR that does not parse, whose
   * self-signature does not verify, or whose key is not RSA of at least 2048 bits.
   */
  issueAgentCertificate(csrPem: string, agentId: string, validityDays: number, now: Date = new Date()): IssuedAgentCertificate {
    checkCsrBounds(csrPem);
    let csr: forge.pki.CertificateSigningRequest;
    try {
      csr = pki.certificationRequestFromPem(csrPem);
    } catch (e) {
      throw Errors.csrInvalid(`CSR does not parse (PEM PKCS#10 with an RSA key expected): ${(e as Error).message}`, { cause: e });
    }
    let verified = false;
    try {
      verified = csr.verify();
    } catch {
      verified = false;
    }
    if (!verified) throw Errors.csrInvalid('CSR signature does not verify');
    const pub = csr.publicKey as forge.pki.rsa.PublicKey | null;
    if (!pub || typeof pub.n?.bitLength !== 'function' || pub.n.bitLength() < MIN_RSA_BITS || pub.n.bitLength() > MAX_RSA_BITS) {
      throw Errors.csrInvalid(`CSR key must be RSA of at least ${MIN_RSA_BITS} and at most ${MAX_RSA_BITS} bits`);
    }
    const cert = this.newCertificate(pub, now, validityDays);
    cert.setSubject([
      { name: 'commonName', value: agentId },
      { name: 'organizationName', value: 'mcpwatch agent' },
    ]);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', clientAuth: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.keyIdentifier() },
    ]);
    cert.sign(this.key as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    const certificatePem = pki.certificateToPem(cert);
    return {
      certificatePem,
      publicKeyPem: pki.publicKeyToPem(pub),
      fingerprint: certificateFingerprint(certificatePem),
      notAfter: cert.validity.notAfter.toISOString(),
    };
  }

  /**
   * A server certificate for `names` (DNS names and IP addresses), valid `validityDays` (397) from
   * `now`, for `keyPem` (default: a fresh key). `loadOrCreateServerCertificate` keeps both in the
   * data dir; this method itself writes nothing.
   */
  issueServerCertificate(names: readonly string[], now: Date = new Date(), keyPem: string = newRsaKeyPem(), validityDays = SERVER_CERT_VALIDITY_DAYS): ServerCertificate {
    const pub = pki.publicKeyFromPem(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }) as string);
    const cert = this.newCertificate(pub, now, validityDays);
    const cn = names.find((n) => isIP(n) === 0) ?? names[0] ?? 'localhost';
    cert.setSubject([
      { name: 'commonName', value: cn },
      { name: 'organizationName', value: 'mcpwatch collector' },
    ]);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.keyIdentifier() },
    ]);
    cert.sign(this.key as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    const certificatePem = pki.certificateToPem(cert);
    return { certificatePem, keyPem, fingerprint: certificateFingerprint(certificatePem), notAfter: cert.validity.notAfter.toISOString() };
  }

  /** true when `cert` was signed by this CA's key and names it as issuer. */
  issued(cert: X509Certificate): boolean {
    try {
      const own = new X509Certificate(this.certificatePem);
      return cert.checkIssued(own) && cert.verify(own.publicKey);
    } catch {
      return false;
    }
  }

  private newCertificate(pub: forge.pki.PublicKey, now: Date, validityDays: number): forge.pki.Certificate {
    const cert = pki.createCertificate();
    cert.publicKey = pub;
    cert.serialNumber = serialNumber();
    // Back-date a little so a client whose clock is slightly behind accepts it.
    cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
    cert.validity.notAfter = new Date(now.getTime() + validityDays * DAY_MS);
    cert.setIssuer(this.cert.subject.attributes);
    return cert;
  }

  private keyIdentifier(): string {
    return pki.getPublicKeyFingerprint(this.cert.publicKey, { md: forge.md.sha1.create() }).getBytes();
  }
}

/**
 * Refuses (MCPW_ERR_CSR_INVALID) a CSR whose size or key is out of bounds, without any RSA
 * arithmetic: the PEM is bounded, the DER is walked with node-forge's ASN.1 reader (linear in its
 * size), and the SubjectPublicKeyInfo is handed to Node's crypto, which only parses it.
 * What it does not do: check the signature (issueAgentCertificate does that next).
 */
export function checkCsrBounds(csrPem: string): void {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_PEM_CHARS) {
    throw Errors.csrInvalid(`CSR is larger than ${MAX_CSR_PEM_CHARS} characters`);
  }
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([A-Za-z0-9+/=\s]+)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(csrPem);
  if (!m) throw Errors.csrInvalid('CSR does not parse (PEM PKCS#10 with an RSA key expected): no CERTIFICATE REQUEST block');
  let spkiDer: Buffer;
  try {
    const der = Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
    const req = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')), true);
    const info = asn1Children(req)[0];
    // CertificationRequestInfo ::= SEQUENCE { version, subject, subjectPKInfo, attributes [0] }
    const spki = info ? asn1Children(info)[2] : undefined;
    if (!spki) throw new Error('no SubjectPublicKeyInfo');
    spkiDer = Buffer.from(forge.asn1.toDer(spki).getBytes(), 'binary');
  } catch (e) {
    throw Errors.csrInvalid(`CSR does not parse (PEM PKCS#10 with an RSA key expected): ${(e as Error).message}`, { cause: e });
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (e) {
    throw Errors.csrInvalid(`CSR public key does not parse: ${(e as Error).message}`, { cause: e });
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== 'rsa' || !details?.modulusLength || details.publicExponent === undefined) {
    throw Errors.csrInvalid(`CSR key must be RSA of at least ${MIN_RSA_BITS} and at most ${MAX_RSA_BITS} bits, not ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  if (details.modulusLength < MIN_RSA_BITS || details.modulusLength > MAX_RSA_BITS) {
    throw Errors.csrInvalid(`CSR key must be RSA of at least ${MIN_RSA_BITS} and at most ${MAX_RSA_BITS} bits, got ${details.modulusLength} bits`);
  }
  const e = details.publicExponent;
  if (e < 3n || e > MAX_RSA_EXPONENT || e % 2n === 0n) {
    throw Errors.csrInvalid('CSR key public exponent must be odd, at least 3 and at most 2^32 (65537 expected)');
  }
}

function asn1Children(node: forge.asn1.Asn1): forge.asn1.Asn1[] {
  if (node.tagClass !== forge.asn1.Class.UNIVERSAL || node.type !== forge.asn1.Type.SEQUENCE || !Array.isArray(node.value)) {
    throw new Error('expected an ASN.1 SEQUENCE');
  }
  return node.value;
}

/** A positive 128-bit serial number, hex. */
function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return b.toString('hex');
}

function newRsaKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
}

/**
 * The embedded HTTPS server's private key, kept in `dataDir/ca/server-key.pem` (0600) so a restart
 * does not pay for RSA key generation (seconds on a small, busy machine). Created on first use, and
 * again when the file does not hold a usable private key.
 */
export function loadOrCreateServerKey(dataDir: string): string {
  const path = serverPaths(dataDir).key;
  if (exists(path)) {
    const pem = readPem(path, 'server key');
    if (usablePrivateKey(pem)) return pem;
  }
  const keyPem = newRsaKeyPem();
  writePrivateFile(dataDir, path, keyPem, 'server key');
  return keyPem;
}

/**
 * The embedded HTTPS listener's certificate: the one kept in `dataDir/ca/server-cert.pem` when it
 * is still right for this CA, key, names and date, else a new one issued by `ca` and kept there
 * (see the module comment for the rules). Throws MCPW_ERR_CA when the files cannot be written.
 */
export function loadOrCreateServerCertificate(
  ca: CertificateAuthority,
  dataDir: string,
  names: readonly string[],
  now: Date = new Date(),
  renewBeforeDays: number = SERVER_CERT_RENEW_BEFORE_DAYS,
): StoredServerCertificate {
  const paths = serverPaths(dataDir);
  const keyPem = loadOrCreateServerKey(dataDir);
  let origin: ServerCertificateOrigin = 'created';
  if (exists(paths.cert)) {
    const verdict = judgeServerCertificate(readPem(paths.cert, 'server certificate'), ca, keyPem, names, now, renewBeforeDays);
    if (verdict.ok) return { ...verdict.cert, keyPem, origin: 'kept' };
    origin = verdict.origin;
  }
  const issued = ca.issueServerCertificate(names, now, keyPem);
  writePrivateFile(dataDir, paths.cert, issued.certificatePem, 'server certificate');
  return { ...issued, origin };
}

function judgeServerCertificate(
  pem: string,
  ca: CertificateAuthority,
  keyPem: string,
  names: readonly string[],
  now: Date,
  renewBeforeDays: number,
): { ok: true; cert: Omit<ServerCertificate, 'keyPem'> } | { ok: false; origin: ServerCertificateOrigin } {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    return { ok: false, origin: 'unreadable' };
  }
  if (!ca.issued(cert)) return { ok: false, origin: 'ca-changed' };
  let sameKey = false;
  try {
    sameKey = cert.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(keyPem).export({ type: 'spki', format: 'der' }));
  } catch {
    sameKey = false;
  }
  if (!sameKey) return { ok: false, origin: 'unreadable' };
  if (!sameNames(subjectAltNames(cert), names)) return { ok: false, origin: 'names-changed' };
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!(now.getTime() >= notBefore) || !(notAfter - now.getTime() > renewBeforeDays * DAY_MS)) return { ok: false, origin: 'renewed' };
  return { ok: true, cert: { certificatePem: pem, fingerprint: certificateFingerprint(pem), notAfter: new Date(notAfter).toISOString() } };
}

/** The DNS names and IP addresses a certificate's subjectAltName carries, normalized. */
function subjectAltNames(cert: X509Certificate): string[] {
  const out: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.*)$/.exec(part.trim());
    if (m && m[2] !== undefined) out.push(normalName(m[2]));
  }
  return out;
}

function normalName(n: string): string {
  const v = n.trim().toLowerCase();
  if (isIP(v) === 6) {
    // One spelling per IPv6 address (X509Certificate prints them expanded: 0:0:0:0:0:0:0:1).
    try {
      return new URL(`http://[${v}]/`).hostname;
    } catch {
      return v;
    }
  }
  return v;
}

function sameNames(have: readonly string[], want: readonly string[]): boolean {
  const a = [...new Set(have.map(normalName))].sort();
  const b = [...new Set(want.map(normalName))].sort();
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function usablePrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
  } catch {
    return false;
  }
}

/** Writes one owner-only file in the CA dir atomically (temporary name, then rename). */
function writePrivateFile(dataDir: string, path: string, data: string, what: string): void {
  const dir = caPaths(dataDir).dir;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
  } catch (e) {
    throw Errors.ca(`cannot write the ${what} in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** Paths of the embedded server certificate and key inside a data dir. */
export function serverPaths(dataDir: string): { cert: string; key: string } {
  const dir = caPaths(dataDir).dir;
  return { cert: join(dir, 'server-cert.pem'), key: join(dir, 'server-key.pem') };
}

/** Creates a new self-signed CA (RSA 2048 key, 10 years). */
export function createCaMaterial(now: Date = new Date()): { certificatePem: string; keyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + 3650 * DAY_MS);
  const attrs = [
    { name: 'commonName', value: `mcpwatch collector CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'mcpwatch' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(new NativeRsaSigner(privateKey) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { certificatePem: pki.certificateToPem(cert), keyPem };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw Errors.ca(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw Errors.ca(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** Paths of the CA inside a data dir. */
export function caPaths(dataDir: string): { dir: string; cert: string; key: string } {
  const dir = join(dataDir, 'ca');
  return { dir, cert: join(dir, 'ca-cert.pem'), key: join(dir, 'ca-key.pem') };
}

/** Loads the configured CA, or the data dir's, creating it there on first start (see module comment). */
export function loadOrCreateCa(loc: CaLocation): CertificateAuthority {
  if (loc.caCertFile && loc.caKeyFile) {
    return new CertificateAuthority(readPem(loc.caCertFile, 'CA certificate'), readPem(loc.caKeyFile, 'CA key'), 'files');
  }
  const p = caPaths(loc.dataDir);
  const haveCert = exists(p.cert);
  const haveKey = exists(p.key);
  if (haveCert && haveKey) return new CertificateAuthority(readPem(p.cert, 'CA certificate'), readPem(p.key, 'CA key'), 'data-dir');
  if (haveCert !== haveKey) {
    throw Errors.ca(`incomplete CA in ${p.dir}: ${haveCert ? 'ca-key.pem' : 'ca-cert.pem'} is missing; restore it or remove the directory to create a new CA (agents must then re-enroll)`);
  }
  try {
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    chmodSync(p.dir, 0o700);
    const material = createCaMaterial();
    const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(p.key + suffix, material.keyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(p.cert + suffix, material.certificatePem, { mode: 0o600, flag: 'wx' });
    renameSync(p.key + suffix, p.key);
    renameSync(p.cert + suffix, p.cert);
    return new CertificateAuthority(material.certificatePem, material.keyPem, 'created');
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('MCPW_ERR_')) throw e;
    throw Errors.ca(`cannot create the CA in ${p.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}
