/**
 * An HTTPS client that trusts only a given CA (full chain and name verification, as an agent pinned
 * to the collector's CA does): which certificate chain a listener serves.
 */
import https from 'node:https';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

const norm = (fp: string) => fp.replace(/:/g, '').toLowerCase();

/** GET `path` (default /healthz) trusting only `caPem`; resolves with the status and the chain's fingerprints, leaf first. */
export function getTrustingCa(port: number, caPem: string, path = '/healthz'): Promise<{ status: number; leaf: string; chain: string[] }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', servername: 'localhost', port, path, ca: caPem, agent: false }, (res) => {
      const chain: string[] = [];
      const sock = res.socket as TLSSocket;
      for (let c: DetailedPeerCertificate | undefined = sock.getPeerCertificate(true); c && c.raw && chain.length < 5; c = c.issuerCertificate) {
        chain.push(norm(c.fingerprint256));
        if (c.issuerCertificate === c) break;
      }
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, leaf: chain[0]!, chain }));
    });
    req.on('error', reject);
  });
}
