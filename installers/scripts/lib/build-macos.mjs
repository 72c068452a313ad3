/**
 * Assembles everything a Mac needs to build the .pkg (installers/out/macos): one payload tree per
 * architecture (the executable and the launchd daemon plist), the install scripts, distribution
 * files, entitlements, build-pkg.sh (pkgbuild/productbuild/codesign/notarytool run there) and
 * uninstall.sh. Configuration profiles are written when their values are given in the
 * environment (MCPWATCH_SERVER_URL + MCPWATCH_ENROLL_SECRET [+ MCPWATCH_CA_FINGERPRINT];
 * MCPWATCH_APPLE_TEAM_ID for the Full Disk Access profile); otherwise make them with
 * `node installers/macos/make-profiles.mjs`.
 */
import { chmodSync, copyFileSync, linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MACOS, launchDaemonPlist, entitlementsPlist, managedPreferencesProfile, fullDiskAccessProfile } from '../../macos/macos-layout.mjs';

const ARCHES = Object.freeze({ 'darwin-arm64': { name: 'arm64', host: 'arm64' }, 'darwin-x64': { name: 'x64', host: 'x86_64' } });

/** productbuild distribution for one architecture (refuses to install on the other). */
export function distributionXml(version, arch) {
  return `<?xml version="1.0" encoding="utf-8"?>
<installer-gui-script minSpecVersion="2">
    <title>mcpwatch agent ${version}</title>
    <options customize="never" require-scripts="false" hostArchitectures="${ARCHES[`darwin-${arch}`].host}"/>
    <domains enable_localSystem="true" enable_anywhere="false" enable_currentUserHome="false"/>
    <volume-check><allowed-os-versions><os-version min="11.0"/></allowed-os-versions></volume-check>
    <choices-outline><line choice="default"><line choice="${MACOS.packageIdentifier}"/></line></choices-outline>
    <choice id="default"/>
    <choice id="${MACOS.packageIdentifier}" visible="false"><pkg-ref id="${MACOS.packageIdentifier}"/></choice>
    <pkg-ref id="${MACOS.packageIdentifier}" version="${version}" onConclusion="none">component-${arch}.pkg</pkg-ref>
</installer-gui-script>
`;
}

/** Hard-links (or copies across devices) a file into place with `mode`. */
function place(source, target, mode) {
  mkdirSync(path.dirname(target), { recursive: true });
  try { linkSync(source, target); } catch { copyFileSync(source, target); }
  chmodSync(target, mode);
}

/**
 * @param {{installersDir: string, outDir: string, version: string, executables: Record<string, string>, log: (line: string) => void, env?: NodeJS.ProcessEnv}} options
 * @returns {Promise<string[]>} the files to checksum (scripts, plists, profiles; not the payload copies)
 */
export async function build({ installersDir, outDir, version, executables, log, env = process.env }) {
  const macDir = path.join(outDir, 'macos');
  const macSrc = path.join(installersDir, 'macos');
  const produced = [];
  const write = (relative, content, mode = 0o644) => {
    const file = path.join(macDir, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, mode);
    produced.push(file);
  };
  for (const [target, arch] of Object.entries(ARCHES)) {
    if (!executables[target]) continue;
    const root = path.join(macDir, `payload-${arch.name}`);
    place(executables[target], path.join(root, MACOS.binary), 0o755);
    mkdirSync(path.join(root, path.dirname(MACOS.daemonPlist)), { recursive: true });
    writeFileSync(path.join(root, MACOS.daemonPlist), launchDaemonPlist());
    chmodSync(path.join(root, MACOS.daemonPlist), 0o644);
    write(`distribution-${arch.name}.xml`, distributionXml(version, arch.name));
  }
  write('VERSION', `${version}\n`);
  write('com.mcpwatch.agent.plist', launchDaemonPlist());
  write('entitlements.plist', entitlementsPlist());
  for (const script of ['preinstall', 'postinstall']) write(path.join('scripts', script), readFileSync(path.join(macSrc, 'scripts', script)), 0o755);
  write('build-pkg.sh', readFileSync(path.join(macSrc, 'build-pkg.sh')), 0o755);
  write('uninstall.sh', readFileSync(path.join(macSrc, 'uninstall.sh')), 0o755);

  if (env.MCPWATCH_SERVER_URL && env.MCPWATCH_ENROLL_SECRET) {
    write('profiles/mcpwatch-agent-settings.mobileconfig', managedPreferencesProfile({ serverUrl: env.MCPWATCH_SERVER_URL, enrollSecret: env.MCPWATCH_ENROLL_SECRET, caFingerprint: env.MCPWATCH_CA_FINGERPRINT, organization: env.MCPWATCH_ORGANIZATION }), 0o600);
  } else {
    log('macOS settings profile not written (set MCPWATCH_SERVER_URL and MCPWATCH_ENROLL_SECRET, or run installers/macos/make-profiles.mjs)');
  }
  if (env.MCPWATCH_APPLE_TEAM_ID) {
    write('profiles/mcpwatch-agent-full-disk-access.mobileconfig', fullDiskAccessProfile({ teamId: env.MCPWATCH_APPLE_TEAM_ID, organization: env.MCPWATCH_ORGANIZATION }));
  } else {
    log('macOS Full Disk Access profile not written (set MCPWATCH_APPLE_TEAM_ID, or run installers/macos/make-profiles.mjs)');
  }
  return produced;
}
