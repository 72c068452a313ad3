/**
 * macOS constants and generated documents: install paths, the launchd daemon, the managed
 * preferences profile (server URL, enroll secret, CA fingerprint in domain com.mcpwatch.agent, which
 * macOS writes to /Library/Managed Preferences/com.mcpwatch.agent.plist for the agent to read; the
 * keys are the agent's config keys `server`, `enrollSecret`, `caFingerprint`, see
 * agent/src/config/config-table.ts and managed-sources.ts) and
 * the PPPC profile granting Full Disk Access (SystemPolicyAllFiles) to the signed agent.
 */
import { toPlistXml, stableUuid } from '../scripts/lib/plist-xml.mjs';
import { PackagingError, PACKAGING_ERROR_CODES } from '../scripts/lib/packaging-error.mjs';

export const MACOS = Object.freeze({
  label: 'com.mcpwatch.agent',
  preferenceDomain: 'com.mcpwatch.agent',
  signingIdentifier: 'com.mcpwatch.agent',
  packageIdentifier: 'com.mcpwatch.agent.pkg',
  binary: '/usr/local/mcpwatch/bin/mcpwatch-agent',
  stateDir: '/Library/Application Support/mcpwatch',
  logDir: '/Library/Logs/mcpwatch',
  daemonPlist: '/Library/LaunchDaemons/com.mcpwatch.agent.plist',
});

/** Managed preference keys: the agent reads its config table's keys from the managed plist. */
export const MANAGED_KEYS = Object.freeze({ serverUrl: 'server', enrollSecret: 'enrollSecret', caFingerprint: 'caFingerprint' });

/** The launchd daemon: restarted on failure, background priority, logs to /Library/Logs/mcpwatch. */
export function launchDaemonPlist() {
  return toPlistXml({
    Label: MACOS.label,
    ProgramArguments: [MACOS.binary, 'run', '--state-dir', MACOS.stateDir],
    RunAtLoad: true,
    KeepAlive: { SuccessfulExit: false },
    ThrottleInterval: 10,
    ProcessType: 'Background',
    LowPriorityIO: true,
    LowPriorityBackgroundIO: true,
    Nice: 10,
    Umask: 63, // 0077: state and logs readable by root only
    // A small V8 young generation (about 25 MB less RSS) and no JIT (about 5 MB less); read only at
    // start-up (LONG_RUNNING_NODE_OPTIONS.run in agent/src/runtime/launch.ts).
    EnvironmentVariables: { NODE_OPTIONS: '--max-semi-space-size=2 --jitless' },
    StandardOutPath: `${MACOS.logDir}/agent.log`,
    StandardErrorPath: `${MACOS.logDir}/agent.log`,
  });
}

/** Hardened-runtime entitlements V8 needs to JIT (used by codesign on the Mac). */
export function entitlementsPlist() {
  return toPlistXml({
    'com.apple.security.cs.allow-jit': true,
    'com.apple.security.cs.allow-unsigned-executable-memory': true,
  });
}

const TEAM_ID = /^[A-Z0-9]{10}$/;

/**
 * The designated code requirement of the agent signed with a Developer ID Application certificate
 * of `teamId` and identifier com.mcpwatch.agent.
 */
export function codeRequirement(teamId) {
  if (!TEAM_ID.test(teamId)) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, `Apple team id "${teamId}" must be 10 upper-case letters or digits (see developer.apple.com, Membership)`);
  }
  return `identifier "${MACOS.signingIdentifier}" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = "${teamId}"`;
}

function profile({ identifier, displayName, description, organization, content }) {
  return toPlistXml({
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: stableUuid(identifier),
    PayloadDisplayName: displayName,
    PayloadDescription: description,
    PayloadOrganization: organization,
    PayloadScope: 'System',
    PayloadRemovalDisallowed: true,
    PayloadContent: content,
  });
}

/**
 * The managed preferences profile MDM pushes to every Mac.
 * @param {{serverUrl: string, enrollSecret: string, caFingerprint?: string, organization?: string}} values
 */
export function managedPreferencesProfile({ serverUrl, enrollSecret, caFingerprint, organization = 'mcpwatch' }) {
  let url;
  try {
    url = new URL(serverUrl);
  } catch (error) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, `server URL "${serverUrl}" is not a URL`, error);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, `server URL must be http(s), got ${url.protocol}`);
  if (!enrollSecret) throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, 'the enroll secret is empty');
  const identifier = `${MACOS.preferenceDomain}.settings`;
  return profile({
    identifier,
    displayName: 'mcpwatch agent settings',
    description: 'Collector URL, enroll secret and CA fingerprint for the mcpwatch agent.',
    organization,
    content: [{
      PayloadType: MACOS.preferenceDomain,
      PayloadVersion: 1,
      PayloadIdentifier: `${identifier}.${MACOS.preferenceDomain}`,
      PayloadUUID: stableUuid(`${identifier}.${MACOS.preferenceDomain}`),
      PayloadDisplayName: 'mcpwatch agent',
      [MANAGED_KEYS.serverUrl]: serverUrl,
      [MANAGED_KEYS.enrollSecret]: enrollSecret,
      [MANAGED_KEYS.caFingerprint]: caFingerprint || undefined,
    }],
  });
}

/**
 * The PPPC (Privacy Preferences Policy Control) profile granting Full Disk Access to the agent.
 * Only an MDM can install it (user-approved or supervised enrollment).
 * @param {{teamId: string, organization?: string}} values
 */
export function fullDiskAccessProfile({ teamId, organization = 'mcpwatch' }) {
  const identifier = `${MACOS.preferenceDomain}.pppc`;
  return profile({
    identifier,
    displayName: 'mcpwatch agent: Full Disk Access',
    description: 'Lets the mcpwatch agent read MCP client configuration files in every user\'s home.',
    organization,
    content: [{
      PayloadType: 'com.apple.TCC.configuration-profile-policy',
      PayloadVersion: 1,
      PayloadIdentifier: `${identifier}.tcc`,
      PayloadUUID: stableUuid(`${identifier}.tcc`),
      PayloadDisplayName: 'mcpwatch agent privacy preferences',
      Services: {
        SystemPolicyAllFiles: [{
          Identifier: MACOS.binary,
          IdentifierType: 'path',
          CodeRequirement: codeRequirement(teamId),
          Authorization: 'Allow',
          StaticCode: false,
          Comment: 'mcpwatch agent reads MCP configuration in all home directories',
        }],
      },
    }],
  });
}
