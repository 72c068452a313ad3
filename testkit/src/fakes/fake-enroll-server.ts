/**
 * A small real HTTPS (or HTTP) enrollment server for the agent's enrollment tests: a node-forge CA
 * that signs the agent's CSR, a self-signed TLS certificate whose SHA-256 fingerprint the agent
 * pins, and a record of every request that reached it.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';

function keyPairPem() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function makeCert(subjectCn: string, publicKeyPem: string, issuerCn: string, issuerKeyPem: string, days: number, isCa: boolean): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  cert.serialNumber = '0' + Math.floor(Math.random() * 1e12).toString(16);
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: subjectCn }]);
  cert.setIssuer([{ name: 'commonName', value: issuerCn }]);
  cert.setExtensions([{ name: 'basicConstraints', cA: isCa }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(forge.pki.privateKeyFromPem(issuerKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export class FakeEnrollServer {
  readonly requests: { url: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  readonly secret: string;
  tlsFingerprint = '';
  /** SHA-256 fingerprint of the CA that issues agent (and, with tls 'ca-issued', TLS) certificates. */
  caFingerprint = '';
  url = '';
  certDays = 365;
  private server: http.Server | https.Server;
  private readonly ca = keyPairPem();
  private readonly caCert: string;
  private n = 0;

  /** tls: false (http), true (self-signed TLS certificate), 'ca-issued' (TLS certificate from the CA, chain sent). */
  constructor(secret: string, tls: boolean | 'ca-issued') {
    this.secret = secret;
    this.caCert = makeCert('test CA', this.ca.publicKeyPem, 'test CA', this.ca.privateKeyPem, 3650, true);
    this.caFingerprint = new X509Certificate(this.caCert).fingerprint256;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ url: req.url ?? '', headers: req.headers, body });
        res.setHeader('content-type', 'application/json');
        if (req.headers.authorization !== `Bearer ${this.secret}`) {
          res.statusCode = 401;
          res.end(JSON.stringify({ statusCode: 401, code: 'MCPW_ERR_ENROLL_SECRET', message: 'enroll secret is not valid' }));
          return;
        }
        const { csr } = JSON.parse(body) as { csr: string };
        const req2 = forge.pki.certificationRequestFromPem(csr);
        if (!req2.verify()) {
          res.statusCode = 400;
          res.end(JSON.stringify({ statusCode: 400, code: 'MCPW_ERR_CSR_INVALID', message: 'bad csr' }));
          return;
        }
        const agentId = `ag_test${++this.n}`;
        const pub = forge.pki.publicKeyToPem(req2.publicKey as forge.pki.rsa.PublicKey);
        const certificate = makeCert(agentId, pub, 'test CA', this.ca.privateKeyPem, this.certDays, false);
        res.end(JSON.stringify({ agentId, endpointId: 'ep_test', certificate, caCertificate: this.caCert, settings: { heartbeatMs: 30000 } }));
      });
    };
    if (tls) {
      const k = keyPairPem();
      const cert =
        tls === 'ca-issued'
          ? makeCert('collector', k.publicKeyPem, 'test CA', this.ca.privateKeyPem, 30, false)
          : makeCert('collector', k.publicKeyPem, 'collector', k.privateKeyPem, 30, false);
      this.tlsFingerprint = new X509Certificate(cert).fingerprint256;
      this.server = https.createServer({ key: k.privateKeyPem, cert: tls === 'ca-issued' ? cert + this.caCert : cert }, handler);
    } else {
      this.server = http.createServer(handler);
    }
  }

  /** A new TLS key and certificate from the same CA (what a collector's renewal does); 'ca-issued' only. */
  async reissueTlsCertificate(): Promise<void> {
    const k = keyPairPem();
    const cert = makeCert('collector', k.publicKeyPem, 'test CA', this.ca.privateKeyPem, 30, false);
    this.tlsFingerprint = new X509Certificate(cert).fingerprint256;
    (this.server as https.Server).setSecureContext({ key: k.privateKeyPem, cert: cert + this.caCert });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    const proto = this.server instanceof https.Server ? 'https' : 'http';
    this.url = `${proto}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
