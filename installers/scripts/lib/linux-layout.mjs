/**
 * The file layout shared by the .deb and .rpm: where the executable, the systemd unit, the man page
 * and the docs go, and the maintainer scripts with the shared shell settings inlined. Both package
 * builders stage exactly this tree, so the two packages install the same files.
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** Architecture names per executable target. */
export const LINUX_ARCH = Object.freeze({ 'linux-x64': { deb: 'amd64', rpm: 'x86_64' }, 'linux-arm64': { deb: 'arm64', rpm: 'aarch64' } });

/** Inlines linux/maintainer-env.sh where a script says #MCPWATCH_ENV#. */
export function renderMaintainerScript(installersDir, source) {
  const env = readFileSync(path.join(installersDir, 'linux', 'maintainer-env.sh'), 'utf8');
  if (!source.includes('#MCPWATCH_ENV#')) return source;
  return source.replace('#MCPWATCH_ENV#', env.trimEnd());
}

/** RFC 2822 date of SOURCE_DATE_EPOCH (reproducible builds) or now. */
export function buildDate(env = process.env) {
  const epoch = Number(env.SOURCE_DATE_EPOCH);
  return Number.isFinite(epoch) && epoch > 0 ? new Date(epoch * 1000) : new Date();
}

/**
 * Stages the installed files under `root`.
 * @param {{installersDir: string, root: string, executable: string, version: string, unitDir: string, debianChangelog: boolean}} options
 *   unitDir: /lib/systemd/system (Debian) or /usr/lib/systemd/system (RPM distributions);
 *   debianChangelog: add usr/share/doc/mcpwatch-agent/changelog.gz (RPM keeps its own %changelog)
 * @returns {string[]} installed paths relative to root
 */
export function stageLinuxFiles({ installersDir, root, executable, version, unitDir, debianChangelog }) {
  const linux = path.join(installersDir, 'linux');
  const files = [];
  const put = (relative, mode, content) => {
    const target = path.join(root, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    if (typeof content === 'string' && content.startsWith('file:')) copyFileSync(content.slice(5), target);
    else writeFileSync(target, content);
    chmodSync(target, mode);
    files.push(relative);
  };
  const date = buildDate();
  // gzip -n equivalent: no name, no timestamp in the header.
  const gz = (text) => gzipSync(Buffer.from(text), { level: 9 });
  put('usr/bin/mcpwatch-agent', 0o755, `file:${executable}`);
  put(path.join(unitDir.replace(/^\//, ''), 'mcpwatch-agent.service'), 0o644, `file:${path.join(linux, 'systemd', 'mcpwatch-agent.service')}`);
  put('usr/share/man/man1/mcpwatch-agent.1.gz', 0o644, gz(readFileSync(path.join(linux, 'mcpwatch-agent.1'), 'utf8')));
  put('usr/share/doc/mcpwatch-agent/copyright', 0o644, `file:${path.join(linux, 'debian', 'copyright')}`);
  put('usr/share/doc/mcpwatch-agent/examples/agent.json', 0o644, `file:${path.join(linux, 'agent.json.example')}`);
  if (debianChangelog) {
    put('usr/share/doc/mcpwatch-agent/changelog.gz', 0o644, gz(
      `mcpwatch-agent (${version}) unstable; urgency=medium\n\n  * Release ${version}.\n\n -- mcpwatch maintainers <mcpwatch@example.com>  ${date.toUTCString().replace('GMT', '+0000')}\n`,
    ));
  }
  return files;
}
