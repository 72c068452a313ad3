/** One CA per test process (creating RSA keys per test would only slow the suite). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCa, type CertificateAuthority } from '../../src/ca/certificate-authority.js';

let ca: CertificateAuthority | undefined;

export function loadCaForTests(): CertificateAuthority {
  ca ??= loadOrCreateCa({ dataDir: mkdtempSync(join(tmpdir(), 'mcpw-ca-')) });
  return ca;
}
