/**
 * The collector's certificate authority (node-forge).
 *
 * Contract:
 * - `loadOrCreateCa()` loads the CA from configured PEM files (caCertFile/caKeyFile: what several
 *   collectors behind a load balancer share), or from `dataDir/ca/`, creating it there on first start:
 *   directory 0700, files 0600, written to temporary names and renamed so a crash never leaves half a
 *   CA. A directory with only one of the two files is an error (MCPW_ERR_CA), never silently replaced.
 * - `issueAgentCertificate()` verifies a PEM PKCS#10 CSR (self-signature, RSA >= 2048 bits) and
 *   issues a client certificate whose subject CN is the agent id. A bad CSR is MCPW_ERR_CSR_INVALID.
 * - `issueServerCertificate()` makes a fresh key and a server certificate for the embedded HTTPS
 *   listener (kept in memory only). Agents pin the CA's fingerprint, so it may change per start.
 * Keys are generated and certificates signed with Node's crypto (native; node-forge's pure-JS RSA
 * private-key operation takes about a second on a small machine); node-forge builds the certificate
 * structures and parses/verifies CSRs.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { certificateFingerprint, NativeRsaSigner } from '@mcpwatch/shared';
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
}

export interface CaLocation {
  dataDir: string;
  caCertFile?: string;
  caKeyFile?: string;
}

const MIN_RSA_BITS = 2048;
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
    this.certificatePem = certificatePem;
    this.fingerprint = certificateFingerprint(certificatePem);
    this.origin = origin;
  }

  /**
   * Verifies `csrPem` and issues a client certificate naming `agentId` (subject CN), valid for
   * `validityDays` from `now`. Throws MCPW_ERR_CSR_INVALID for a CSR that does not parse, whose
   * self-signature does not verify, or whose key is not RSA of at least 2048 bits.
   */
  issueAgentCertificate(csrPem: string, agentId: string, validityDays: number, now: Date = new Date()): IssuedAgentCertificate {
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
    if (!pub || typeof pub.n?.bitLength !== 'function' || pub.n.bitLength() < MIN_RSA_BITS) {
      throw Errors.csrInvalid(`CSR key must be RSA of at least ${MIN_RSA_BITS} bits`);
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
   * A server certificate for `names` (DNS names and IP addresses), valid 397 days, for `keyPem`
   * (default: a fresh key; `loadOrCreateServerKey` keeps one in the data dir so restarts skip keygen).
   */
  issueServerCertificate(names: readonly string[], now: Date = new Date(), keyPem: string = newRsaKeyPem()): ServerCertificate {
    const pub = pki.publicKeyFromPem(createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }) as string);
    const cert = this.newCertificate(pub, now, 397);
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
    return { certificatePem, keyPem, fingerprint: certificateFingerprint(certificatePem) };
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
 * does not pay for RSA key generation (seconds on a small, busy machine). Created on first use.
 */
export function loadOrCreateServerKey(dataDir: string): string {
  const path = join(caPaths(dataDir).dir, 'server-key.pem');
  if (exists(path)) return readPem(path, 'server key');
  try {
    mkdirSync(caPaths(dataDir).dir, { recursive: true, mode: 0o700 });
    const keyPem = newRsaKeyPem();
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, keyPem, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, path);
    return keyPem;
  } catch (e) {
    throw Errors.ca(`cannot create the server key in ${caPaths(dataDir).dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
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
