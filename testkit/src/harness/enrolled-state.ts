/**
 * A state directory that looks enrolled to the agent (agent-key.pem + enrollment.json, owner-only),
 * so a test can start the agent's runtime against a fake collector without going through /v1/enroll.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';

export interface EnrolledStateOptions {
  agentId: string;
  endpointId: string;
  /** The collector URL the agent ships to. */
  server: string;
  privateKey: KeyObject;
  /** Served settings stored with the enrollment. */
  settings?: Record<string, unknown>;
  /** Prefix of the temporary folder. */
  prefix?: string;
}

/** Creates `<tmp>/state` holding an enrollment valid for a year; returns its path. */
export function enrolledStateDir(o: EnrolledStateOptions): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), o.prefix ?? 'mcpw-state-')), 'state');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'agent-key.pem'), o.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const now = Date.now();
  const record = { agentId: o.agentId, endpointId: o.endpointId, server: o.server, caFingerprint: null, enrolledAt: new Date(now).toISOString(), certNotBefore: new Date(now).toISOString(), certNotAfter: new Date(now + 365 * 86_400_000).toISOString(), settings: o.settings ?? {} };
  fs.writeFileSync(path.join(dir, 'enrollment.json'), JSON.stringify(record), { mode: 0o600 });
  return dir;
}
