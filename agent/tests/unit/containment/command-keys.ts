/**
 * Test support for containment: a real collector-like CA (RSA key + self-signed X.509 certificate
 * made with node-forge, as the collector's CA does) and commands signed with it through the shared
 * signCommand, the same code the collector uses.
 */
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signCommand, type CommandAction, type SignedCommand } from '@mcpwatch/shared';

export interface TestCa {
  privateKey: KeyObject;
  certPem: string;
}

export function makeCa(name = 'mcpwatch test CA'): TestCa {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const attrs = [{ name: 'commonName', value: name }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), forge.md.sha256.create());
  return { privateKey, certPem: forge.pki.certificateToPem(cert) };
}

let counter = 0;

/** A signed command; `over` replaces fields before signing. */
export function command(ca: TestCa, action: CommandAction, endpointId: string, serverKey: string, over: Partial<SignedCommand> = {}, nowMs = Date.now()): SignedCommand {
  counter++;
  return signCommand(ca.privateKey, {
    id: `cmd_test${String(counter).padStart(6, '0')}${randomBytes(4).toString('hex')}`,
    endpointId,
    action,
    serverKey,
    issuedAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + 3600_000).toISOString(),
    nonce: randomBytes(16).toString('base64url'),
    ...over,
  });
}
