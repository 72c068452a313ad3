/**
 * macOS documents: launchd daemon, entitlements, the managed preferences profile (read back by the
 * agent's own config loader from /Library/Managed Preferences) and the Full Disk Access (PPPC)
 * profile. Every plist is parsed by plistlib.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MACOS, MANAGED_KEYS, codeRequirement, entitlementsPlist, fullDiskAccessProfile, launchDaemonPlist, managedPreferencesProfile } from '../../macos/macos-layout.mjs';
import { toPlistXml } from '../../scripts/lib/plist-xml.mjs';
import { HAS_PYTHON, parsePlist } from '../helpers/plist-parse.js';
import { REPO_ROOT } from '../helpers/artifacts.js';

const SECRET = 'CANARY-mac-secret <&> "x"';
const describePlist = HAS_PYTHON ? describe : describe.skip;
if (!HAS_PYTHON) console.warn('macOS plist tests skipped: python3 (plistlib) not available');

type Dict = Record<string, unknown>;

describePlist('macOS plists', () => {
  it('launchd daemon runs the agent in service mode, at load, restarted on failure, at background priority', () => {
    const daemon = parsePlist(launchDaemonPlist()) as Dict;
    expect(daemon).toMatchObject({
      Label: 'com.mcpwatch.agent',
      ProgramArguments: [MACOS.binary, 'run', '--state-dir', MACOS.stateDir],
      RunAtLoad: true,
      KeepAlive: { SuccessfulExit: false },
      ProcessType: 'Background',
      LowPriorityIO: true,
      EnvironmentVariables: { NODE_OPTIONS: '--max-semi-space-size=2 --jitless' },
    });
    expect(daemon.Nice).toBeGreaterThan(0);
  });

  it('entitlements allow the V8 JIT under the hardened runtime', () => {
    expect(parsePlist(entitlementsPlist())).toEqual({ 'com.apple.security.cs.allow-jit': true, 'com.apple.security.cs.allow-unsigned-executable-memory': true });
  });

  it('settings profile carries server, enroll secret and CA fingerprint in the agent\'s domain', () => {
    const profile = parsePlist(managedPreferencesProfile({ serverUrl: 'https://mcpwatch.example.com', enrollSecret: SECRET, caFingerprint: 'cd'.repeat(32), organization: 'Example Corp' })) as Dict;
    expect(profile).toMatchObject({ PayloadType: 'Configuration', PayloadScope: 'System', PayloadOrganization: 'Example Corp' });
    const [payload] = profile.PayloadContent as Dict[];
    expect(payload).toMatchObject({ PayloadType: 'com.mcpwatch.agent', server: 'https://mcpwatch.example.com', enrollSecret: SECRET, caFingerprint: 'cd'.repeat(32) });
    // Stable UUIDs: re-generating the profile replaces the installed one instead of adding another.
    const again = parsePlist(managedPreferencesProfile({ serverUrl: 'https://other.example.com', enrollSecret: 'x' })) as Dict;
    expect(again.PayloadUUID).toBe(profile.PayloadUUID);
    expect(String(profile.PayloadUUID)).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  });

  it('the agent reads the settings from /Library/Managed Preferences/com.mcpwatch.agent.plist', async () => {
    const profile = parsePlist(managedPreferencesProfile({ serverUrl: 'https://mcpwatch.example.com', enrollSecret: SECRET, caFingerprint: 'cd'.repeat(32) })) as Dict;
    // macOS writes the payload's keys, without the Payload* ones, to the managed preferences plist.
    const managed = Object.fromEntries(Object.entries((profile.PayloadContent as Dict[])[0]!).filter(([key]) => !key.startsWith('Payload')));
    const root = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-managed-'));
    try {
      mkdirSync(path.join(root, 'Library', 'Managed Preferences'), { recursive: true });
      writeFileSync(path.join(root, 'Library', 'Managed Preferences', `${MACOS.preferenceDomain}.plist`), toPlistXml(managed));
      // The agent's config loader (not exported from its package index; built by `npm run build`).
      const { loadConfig } = await import(path.join(REPO_ROOT, 'agent', 'dist', 'config', 'load-config.js')) as { loadConfig(input: object): Promise<{ config: Dict; sources: Dict; warnings: string[] }> };
      const loaded = await loadConfig({ platform: 'darwin', systemRoot: root, env: {}, cli: {} });
      expect(loaded.warnings).toEqual([]);
      expect(loaded.config).toMatchObject({ server: 'https://mcpwatch.example.com', enrollSecret: SECRET, caFingerprint: 'cd'.repeat(32) });
      expect(loaded.sources).toMatchObject({ server: 'managed preferences', enrollSecret: 'managed preferences' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(Object.values(MANAGED_KEYS).sort()).toEqual(['caFingerprint', 'enrollSecret', 'server']);
  });

  it('Full Disk Access profile grants SystemPolicyAllFiles to the agent\'s path and Developer ID code requirement', () => {
    const profile = parsePlist(fullDiskAccessProfile({ teamId: 'ABCDE12345' })) as Dict;
    const [payload] = profile.PayloadContent as Dict[];
    expect(payload!.PayloadType).toBe('com.apple.TCC.configuration-profile-policy');
    const [grant] = (payload!.Services as Dict).SystemPolicyAllFiles as Dict[];
    expect(grant).toMatchObject({ Identifier: MACOS.binary, IdentifierType: 'path', Authorization: 'Allow', StaticCode: false });
    expect(grant!.CodeRequirement).toBe(codeRequirement('ABCDE12345'));
    expect(grant!.CodeRequirement).toContain('identifier "com.mcpwatch.agent"');
    expect(grant!.CodeRequirement).toContain('certificate leaf[subject.OU] = "ABCDE12345"');
    expect(profile.PayloadUUID).not.toBe((parsePlist(managedPreferencesProfile({ serverUrl: 'https://a.example', enrollSecret: 's' })) as Dict).PayloadUUID);
  });
});

describe('macOS profile input errors', () => {
  it.each([
    ['a server that is not a URL', () => managedPreferencesProfile({ serverUrl: 'not a url', enrollSecret: 's' })],
    ['a server that is not http(s)', () => managedPreferencesProfile({ serverUrl: 'ftp://x.example', enrollSecret: 's' })],
    ['an empty enroll secret', () => managedPreferencesProfile({ serverUrl: 'https://x.example', enrollSecret: '' })],
    ['a control character XML cannot carry', () => managedPreferencesProfile({ serverUrl: 'https://x.example', enrollSecret: 'a\u0001b' })],
    ['a malformed team id', () => fullDiskAccessProfile({ teamId: 'abc' })],
  ])('refuses %s with MCPW_ERR_PACKAGE_BAD_CONFIG_VALUE', (_name, make) => {
    expect(make).toThrow(expect.objectContaining({ code: 'MCPW_ERR_PACKAGE_BAD_CONFIG_VALUE' }));
  });
});
