/**
 * The .deb and .rpm built by `npm test`: metadata, contents, lintian, the systemd unit, and the
 * .deb installed, upgraded, removed and purged for real with dpkg on this machine (root) inside a
 * mount namespace that looks like a systemd host (recording stubs for deb-systemd-invoke and
 * systemctl; see helpers/namespace.ts). postinst enrolls against a real collector from
 * /etc/mcpwatch/agent.json; upgrade keeps the enrollment; remove stops the service; purge deletes
 * the state. The RPM's scriptlets run the same way.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AGENT_VERSION, INSTALLERS_DIR, artifact, hasTool, itWhen, run } from '../helpers/artifacts.js';
import { startCollector, type CollectorProcess } from '../helpers/collector-process.js';
import { canUnshare, createSystemdSandbox, type SystemdSandbox } from '../helpers/namespace.js';

const DEB = `mcpwatch-agent_${AGENT_VERSION}_amd64.deb`;
const RPM = `mcpwatch-agent-${AGENT_VERSION}-1.x86_64.rpm`;
const UNIT = path.join(INSTALLERS_DIR, 'linux', 'systemd', 'mcpwatch-agent.service');
const STATE_DIR = '/var/lib/mcpwatch';
/** deb-systemd-helper's record that it enabled the unit (kept until purge). */
const DSH_STATE = '/var/lib/systemd/deb-systemd-helper-enabled/mcpwatch-agent.service.dsh-also';
const SECRET_CANARY = 'CANARY-deb-enroll-secret-91c2';

/** Parses a systemd unit into section → key → values. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current = '';
  for (const line of text.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) { current = header[1]!; sections[current] = {}; continue; }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (kv && current) (sections[current]![kv[1]!] ??= []).push(kv[2]!);
  }
  return sections;
}

describe('systemd unit', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  it('restarts on failure, is budgeted and sandboxed, can read every home and write only its dirs', () => {
    const service = unit.Service!;
    expect(service.ExecStart).toEqual(['/usr/bin/mcpwatch-agent run --state-dir /var/lib/mcpwatch']);
    expect(service.Restart).toEqual(['on-failure']);
    // One process (no relaunch), a small young generation, no JIT: quoted, as systemd needs for a value with a space.
    expect(service.Environment).toEqual(['"NODE_OPTIONS=--max-semi-space-size=2 --jitless"']);
    expect(service.CPUQuota?.[0]).toMatch(/^\d+%$/);
    expect(service.MemoryMax?.[0]).toMatch(/^\d+M$/);
    expect(Number(service.Nice?.[0])).toBeGreaterThan(0);
    expect(service.ProtectSystem).toEqual(['strict']);
    expect(service.ProtectHome).toEqual(['read-only']);
    expect(service.ReadWritePaths?.[0]?.split(' ').sort()).toEqual(['/var/lib/mcpwatch', '/var/log/mcpwatch']);
    expect(unit.Install!.WantedBy).toEqual(['multi-user.target']);
  });

  itWhen({ tools: ['systemd-analyze'] })('passes systemd-analyze verify', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-unit-'));
    // verify checks that ExecStart exists: point it at a real executable for the check.
    writeFileSync(path.join(dir, 'mcpwatch-agent.service'), readFileSync(UNIT, 'utf8').replace('/usr/bin/mcpwatch-agent', '/bin/true'));
    const result = await run('systemd-analyze', ['verify', '--man=no', path.join(dir, 'mcpwatch-agent.service')]);
    rmSync(dir, { recursive: true, force: true });
    expect(result.stderr.split('\n').filter((line) => line.includes('mcpwatch-agent.service'))).toEqual([]);
    expect(result.status).toBe(0);
  });
});

describe('.deb', () => {
  const deb = artifact(DEB);
  // lintian takes over a minute on a 100 MB executable: start it first, run the rest meanwhile.
  let lintian: Promise<Awaited<ReturnType<typeof run>>> | undefined;
  beforeAll(() => {
    if (existsSync(deb) && hasTool('lintian')) lintian = run('lintian', ['--fail-on', 'error,warning', '--tag-display-limit', '0', deb], { timeoutMs: 280_000 });
  });

  itWhen({ artifacts: [DEB], tools: ['dpkg-deb'] })('has the expected control fields and files', async () => {
    const info = await run('dpkg-deb', ['--field', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    expect(info.stdout).toContain('Package: mcpwatch-agent');
    expect(info.stdout).toContain(`Version: ${AGENT_VERSION}`);
    expect(info.stdout).toContain('Architecture: amd64');
    expect(info.stdout).toMatch(/Depends: .*libc6 \(>= 2\.28\)/);
    const contents = (await run('dpkg-deb', ['--contents', deb])).stdout;
    expect(contents).toMatch(/-rwxr-xr-x root\/root .* \.\/usr\/bin\/mcpwatch-agent\n/);
    for (const file of ['./lib/systemd/system/mcpwatch-agent.service', './usr/share/man/man1/mcpwatch-agent.1.gz', './usr/share/doc/mcpwatch-agent/copyright', './usr/share/doc/mcpwatch-agent/changelog.gz']) {
      expect(contents).toContain(file);
    }
    const control = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-deb-control-'));
    await run('dpkg-deb', ['--control', deb, control]);
    expect(readdirSync(control).sort()).toEqual(['control', 'md5sums', 'postinst', 'postrm', 'prerm']);
    for (const script of ['postinst', 'postrm', 'prerm']) {
      const text = readFileSync(path.join(control, script), 'utf8');
      expect(text).not.toContain('#MCPWATCH_ENV#');
      expect((await run('sh', ['-n', path.join(control, script)])).status).toBe(0);
    }
    rmSync(control, { recursive: true, force: true });
  });

  describe('install, upgrade, remove, purge with dpkg', () => {
    let sandbox: SystemdSandbox;
    let collector: CollectorProcess | undefined;
    let work: string;
    let allowed = false;

    beforeAll(async () => {
      allowed = existsSync(deb) && hasTool('dpkg') && (await canUnshare());
      if (!allowed) return;
      work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-dpkg-'));
      await run('dpkg', ['--purge', 'mcpwatch-agent']); // a leftover from an interrupted run
      sandbox = createSystemdSandbox();
      collector = await startCollector(path.join(work, 'collector'), SECRET_CANARY);
      writeFileSync(path.join(sandbox.etcDir, 'agent.json'), JSON.stringify({ server: collector.url, enrollSecret: SECRET_CANARY, caFingerprint: collector.caFingerprint }));
    }, 150_000);

    afterAll(async () => {
      if (!allowed) return;
      await run('dpkg', ['--purge', 'mcpwatch-agent']);
      await collector?.stop();
      rmSync(work, { recursive: true, force: true });
      sandbox.dispose();
    });

    itWhen({ artifacts: [DEB], tools: ['dpkg', 'unshare'], root: true })('installs, enrolls, starts; upgrades keeping state; remove stops; purge deletes', async () => {
      expect(allowed).toBe(true);
      // Upgrade target: the same payload repackaged as the next patch version (uncompressed: fast).
      const [major, minor, patch] = AGENT_VERSION.split('.').map(Number);
      const next = `${major}.${minor}.${patch! + 1}`;
      const tree = path.join(work, 'next');
      await run('dpkg-deb', ['--raw-extract', deb, tree]);
      const controlFile = path.join(tree, 'DEBIAN', 'control');
      writeFileSync(controlFile, readFileSync(controlFile, 'utf8').replace(`Version: ${AGENT_VERSION}`, `Version: ${next}`));
      const nextDeb = path.join(work, `mcpwatch-agent_${next}_amd64.deb`);
      expect((await run('dpkg-deb', ['--root-owner-group', '-Znone', '--build', tree, nextDeb])).status).toBe(0);

      const install = await sandbox.sh(`dpkg -i "${deb}"`);
      expect(install.stderr).toContain('mcpwatch-agent: enrolled');
      expect(install.status).toBe(0);
      const invoked = () => sandbox.calls().filter((call) => call.startsWith('deb-systemd-invoke'));
      expect(invoked()).toEqual(['deb-systemd-invoke start mcpwatch-agent.service']);
      // deb-systemd-helper enables the unit through `systemctl preset` (stubbed here) and records it.
      expect(sandbox.calls()).toContainEqual(expect.stringMatching(/^systemctl .*preset mcpwatch-agent\.service$/));
      expect(existsSync(DSH_STATE)).toBe(true);
      const enrollment = readFileSync(path.join(STATE_DIR, 'enrollment.json'), 'utf8');
      expect(JSON.parse(enrollment)).toHaveProperty('agentId');
      expect(readFileSync('/var/log/mcpwatch/enroll.log', 'utf8') + install.stdout + install.stderr).not.toContain(SECRET_CANARY);
      expect((await run('/usr/bin/mcpwatch-agent', ['--version'])).stdout).toContain(`mcpwatch-agent ${AGENT_VERSION}`);

      const upgrade = await sandbox.sh(`dpkg -i "${nextDeb}"`);
      expect(upgrade.status).toBe(0);
      expect(invoked()).toEqual(['deb-systemd-invoke start mcpwatch-agent.service', 'deb-systemd-invoke restart mcpwatch-agent.service']);
      expect(readFileSync(path.join(STATE_DIR, 'enrollment.json'), 'utf8')).toBe(enrollment);
      expect((await run('dpkg-query', ['--showformat', '${Version}', '--show', 'mcpwatch-agent'])).stdout).toBe(next);

      const remove = await sandbox.sh('dpkg --remove mcpwatch-agent');
      expect(remove.status).toBe(0);
      expect(invoked().slice(2)).toEqual(['deb-systemd-invoke stop mcpwatch-agent.service']);
      expect(existsSync('/usr/bin/mcpwatch-agent')).toBe(false);
      expect(readFileSync(path.join(STATE_DIR, 'enrollment.json'), 'utf8')).toBe(enrollment);

      const purge = await sandbox.sh('dpkg --purge mcpwatch-agent');
      expect(purge.status).toBe(0);
      expect(existsSync(STATE_DIR)).toBe(false);
      expect(existsSync('/var/log/mcpwatch')).toBe(false);
      expect(existsSync(DSH_STATE)).toBe(false);
    });
  });

  itWhen({ artifacts: [DEB], tools: ['lintian'] })('is lintian clean (overrides justified in linux/debian/lintian-overrides)', async () => {
    const result = await lintian!;
    expect(result.stdout.split('\n').filter((line) => /^[EW]: /.test(line))).toEqual([]);
    expect(result.status).toBe(0);
    const overrides = readFileSync(path.join(INSTALLERS_DIR, 'linux', 'debian', 'lintian-overrides'), 'utf8').split('\n');
    overrides.forEach((line, i) => {
      if (line.startsWith('mcpwatch-agent:')) expect(overrides[i - 1]).toMatch(/^#/); // each override has its reason above it
    });
  });
});

describe('.rpm', () => {
  const rpm = artifact(RPM);

  itWhen({ artifacts: [RPM], tools: ['rpm'] })('has the expected header, files and scriptlets', async () => {
    const header = (await run('rpm', ['-qp', '--queryformat', '%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n', rpm])).stdout;
    expect(header).toBe(`mcpwatch-agent ${AGENT_VERSION} 1 x86_64\n`);
    const files = (await run('rpm', ['-qpl', rpm])).stdout.split('\n').filter(Boolean).sort();
    expect(files).toEqual(['/usr/bin/mcpwatch-agent', '/usr/lib/systemd/system/mcpwatch-agent.service', '/usr/share/doc/mcpwatch-agent/copyright', '/usr/share/doc/mcpwatch-agent/examples/agent.json', '/usr/share/man/man1/mcpwatch-agent.1.gz']);
    const requires = (await run('rpm', ['-qpR', rpm])).stdout;
    expect(requires).toContain('libc.so.6(GLIBC_2.28)(64bit)');
  });

  itWhen({ artifacts: [RPM], tools: ['rpm', 'unshare'], root: true })('scriptlets: install enables and starts, upgrade restarts, erase stops and disables', async () => {
    expect(await canUnshare()).toBe(true);
    const sandbox = createSystemdSandbox();
    const scriptlet = async (tag: string) => (await run('rpm', ['-qp', '--queryformat', `%{${tag}}`, rpm])).stdout;
    const [post, preun] = [await scriptlet('POSTIN'), await scriptlet('PREUN')];
    const work = mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-rpm-'));
    writeFileSync(path.join(work, 'post.sh'), post);
    writeFileSync(path.join(work, 'preun.sh'), preun);
    const createdState = !existsSync(STATE_DIR);
    try {
      // No /etc/mcpwatch/agent.json in the sandbox: post must still succeed and say how to enroll.
      const install = await sandbox.sh(`sh "${work}/post.sh" 1`);
      expect(install.status).toBe(0);
      expect(install.stderr).toContain('/etc/mcpwatch/agent.json not found');
      expect((await sandbox.sh(`sh "${work}/post.sh" 2`)).status).toBe(0);
      expect((await sandbox.sh(`sh "${work}/preun.sh" 1`)).status).toBe(0);
      expect((await sandbox.sh(`sh "${work}/preun.sh" 0`)).status).toBe(0);
      expect(sandbox.calls()).toEqual([
        'systemctl daemon-reload', 'systemctl enable --now mcpwatch-agent.service',
        'systemctl daemon-reload', 'systemctl try-restart mcpwatch-agent.service',
        'systemctl disable --now mcpwatch-agent.service',
      ]);
    } finally {
      sandbox.dispose();
      rmSync(work, { recursive: true, force: true });
      if (createdState) rmSync(STATE_DIR, { recursive: true, force: true });
      if (createdState) rmSync('/var/log/mcpwatch', { recursive: true, force: true });
    }
  });
});
