#!/usr/bin/env node
/**
 * Writes the two configuration profiles an MDM (Jamf, Kandji, Intune) pushes to Macs:
 *
 *   node installers/macos/make-profiles.mjs --server-url URL --enroll-secret-file FILE \
 *        [--ca-fingerprint F] [--team-id TEAMID] [--organization NAME] --out-dir DIR
 *
 * The enroll secret is read from a file (or MCPWATCH_ENROLL_SECRET), never from the command line,
 * so it does not land in shell history or process listings. The settings profile is written 0600.
 * Exit 0, or 1 with a MCPW_ERR_PACKAGE_* code.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { managedPreferencesProfile, fullDiskAccessProfile } from './macos-layout.mjs';
import { PackagingError, PACKAGING_ERROR_CODES } from '../scripts/lib/packaging-error.mjs';

try {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      'server-url': { type: 'string' }, 'enroll-secret-file': { type: 'string' }, 'ca-fingerprint': { type: 'string' },
      'team-id': { type: 'string' }, organization: { type: 'string' }, 'out-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values['out-dir'] || !values['server-url']) throw new PackagingError(PACKAGING_ERROR_CODES.BAD_ARGUMENT, '--server-url and --out-dir are required');
  const secret = values['enroll-secret-file'] ? readFileSync(values['enroll-secret-file'], 'utf8').trim() : (process.env.MCPWATCH_ENROLL_SECRET ?? '');
  // Build both documents first: bad input writes nothing.
  const settingsXml = managedPreferencesProfile({ serverUrl: values['server-url'], enrollSecret: secret, caFingerprint: values['ca-fingerprint'], organization: values.organization });
  const pppcXml = values['team-id'] ? fullDiskAccessProfile({ teamId: values['team-id'], organization: values.organization }) : undefined;
  mkdirSync(values['out-dir'], { recursive: true });
  const settings = path.join(values['out-dir'], 'mcpwatch-agent-settings.mobileconfig');
  writeFileSync(settings, settingsXml, { mode: 0o600 });
  chmodSync(settings, 0o600);
  process.stdout.write(`${settings}\n`);
  if (pppcXml) {
    const pppc = path.join(values['out-dir'], 'mcpwatch-agent-full-disk-access.mobileconfig');
    writeFileSync(pppc, pppcXml);
    process.stdout.write(`${pppc}\n`);
  }
} catch (error) {
  const code = error instanceof PackagingError ? error.code : PACKAGING_ERROR_CODES.BAD_ARGUMENT;
  process.stderr.write(`make-profiles: ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
