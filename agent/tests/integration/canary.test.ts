/**
 * Secrets never leave: canary values planted in a fixture home (env values, arguments, headers,
 * URL userinfo, query tokens, and a malformed file around a secret) must not appear in the table,
 * in --json, nor in anything watch prints (snapshot and change events), on stdout or stderr.
 * The second set (issue 10, items 2-5) plants the shapes that used to leak: credentials in
 * install specs (uvx --from, pipx --spec, uv tool run in Codex TOML, docker -e), prefix-less
 * lower-case / hex / base32 tokens, JSON (also escaped) and --flag:value / -Dname=value
 * arguments, other spellings of secret query parameters, env and header keys that carry their
 * value, and a YAML file whose parser error quotes the token.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli-run.js';
import { startWatch } from '../support/watch-process.js';

const CANARIES = {
  envValue: 'canaryEnvValue7f3a9c2b8d4e1f6a',
  envToken: 'ghp_CanaryEnvToken000111222333444555666a',
  argFlag: 'canaryArgFlagKq8Zp3Lm7Xw2Rt9Vb',
  argPositional: 'sk-ant-api03-CanaryPositional00112233445566778899aabbcc',
  header: 'canaryHeaderTq7Wm2Zp9Lx4Rb8Yc',
  userinfo: 'canaryUserPw9Xq2Lr5Tz',
  query: 'canaryQueryTok8Hn3Jd6Ws1',
  malformed: 'sk-proj-CanaryMalformed0011223344556677889900aabbccdd',
  // issue 10, items 2-5
  specPass: 'canarySpecPw4Kq9Zt',
  specTok: 'canarySpecTok7Lm2Xw',
  codexSpec: 'canaryCodexSpec3Rb8',
  dockerEnv: 'canaryDockerEnv5Hn2Jd',
  hexTok: '9f8e7d6c5b4a39281706f5e4d3c2b1a0c0ffee42',
  lowerTok: 'k3x9q2m7w4p8z1r6t5y0u3v8n2b7c4d9f6g1h5j0',
  base32: 'MFRGGZDF2MZTWQ3LK4NNWG5TP',
  jsonKey: 'canaryJsonKey6Tp3Vc',
  jsonEsc: 'canaryJsonEsc2Wq8Ys',
  colonFlag: 'canaryColonFlag9Mb4',
  dprop: 'canaryDprop1Gh7Kd',
  envKeyVal: 'canaryEnvKeyVal8Zx3',
  hdrKeyVal: 'canaryHdrKeyVal4Qs9',
  qPass: 'canaryQpass3Nd7',
  qSess: 'canaryQsess6Rf1',
  matrix: 'canaryMatrix2Vb5',
  authBracket: 'canaryAuthBr5Lp2',
  yamlAlias: 'q7w2e9r4t1y8u3i6o5p0a2s7d4f9g1h6j3k8l5z0',
  // issue 14: Docker MCP Toolkit catalogs and settings, Claude Code plugin servers and hooks
  dockerCatalogEnv: 'canaryDockerCatalogEnv4Rz8',
  dockerCatalogHeader: 'canaryDockerHdr7Wq1',
  dockerRegistryConfig: 'canaryDockerRegCfg2Lm6',
  dockerSettings: 'canaryDockerSettings9Tb3',
  pluginEnv: 'canaryPluginEnv5Kd2',
  pluginHook: 'canaryPluginHook8Vn4',
} as const;

function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
}

function plantSecrets(home: string, suffix = ''): void {
  writeJson(path.join(home, '.config', 'Claude', 'claude_desktop_config.json'), {
    mcpServers: {
      [`github${suffix}`]: {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github', '--api-key', CANARIES.argFlag, CANARIES.argPositional],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: CANARIES.envToken, SOME_SETTING: CANARIES.envValue },
      },
      [`spec-uvx${suffix}`]: {
        command: 'uvx',
        args: ['--from', `git+https://deploy:${CANARIES.specPass}@git.example.com/org/repo-mcp@v1.2.0`, 'repo-mcp'],
      },
      [`spec-pipx${suffix}`]: { command: 'pipx', args: ['run', '--spec', `git+https://${CANARIES.specTok}@github.com/org/tool.git`, 'tool'] },
      [`docker${suffix}`]: {
        command: 'docker',
        args: ['run', '-i', '--rm', '-e', `GITHUB_PERSONAL_ACCESS_TOKEN=${CANARIES.dockerEnv}`, 'ghcr.io/github/github-mcp-server'],
      },
      [`tokens${suffix}`]: { command: 'npx', args: ['-y', '@vendor/mcp-server', CANARIES.hexTok, CANARIES.lowerTok, CANARIES.base32] },
      [`forms${suffix}`]: {
        command: 'npx',
        args: [
          '-y', 'srv', '--config', JSON.stringify({ apiKey: CANARIES.jsonKey, region: 'eu' }),
          `{\\"token\\":\\"${CANARIES.jsonEsc}\\"}`, `--api-key:${CANARIES.colonFlag}`, `-Dauth.password=${CANARIES.dprop}`,
        ],
        env: { [`API_KEY=${CANARIES.envKeyVal}`]: '' },
      },
    },
  });
  writeJson(path.join(home, '.codex', 'config.toml'), [
    `[mcp_servers.codexspec${suffix}]`,
    'command = "uv"',
    `args = ["tool", "run", "--from", "git+https://oauth2:${CANARIES.codexSpec}@gitlab.example.com/g/p.git", "p"]`,
    '',
  ].join('\n'));
  writeJson(path.join(home, '.config', 'goose', 'config.yaml'), [
    'extensions:',
    `  gh${suffix}:`,
    '    type: stdio',
    '    cmd: npx',
    '    envs:',
    `      GITHUB_TOKEN: *${CANARIES.yamlAlias}`,
    '',
  ].join('\n'));
  writeJson(path.join(home, '.cursor', 'mcp.json'), {
    mcpServers: {
      [`remote${suffix}`]: {
        url: `https://deploy:${CANARIES.userinfo}@mcp.example.com/mcp?token=${CANARIES.query}&region=eu`,
        headers: { Authorization: `Bearer ${CANARIES.header}` },
      },
      [`params${suffix}`]: {
        url: `https://mcp.example.com/app;token=${CANARIES.matrix}/mcp?pass=${CANARIES.qPass}&session_id=${CANARIES.qSess}&auth[token]=${CANARIES.authBracket}`,
        headers: { [`Authorization: Bearer ${CANARIES.hdrKeyVal}`]: '' },
      },
    },
  });
  writeJson(path.join(home, '.gemini', 'settings.json'), `{ "mcpServers": { "x": { "env": { "OPENAI_API_KEY": "${CANARIES.malformed}" } ,, } `);
  // Docker MCP Toolkit: an enabled server whose catalog writes values into env and a header, a
  // registry entry's config and the per-server settings file.
  const docker = path.join(home, '.docker', 'mcp');
  writeJson(path.join(docker, 'registry.yaml'), `registry:\n  dockerhub${suffix}:\n    ref: ""\n    config:\n      api_key: ${CANARIES.dockerRegistryConfig}\n  dockerremote${suffix}:\n    ref: ""\n`);
  writeJson(path.join(docker, 'catalogs', 'docker-mcp.yaml'), [
    'registry:',
    `  dockerhub${suffix}:`,
    '    type: server',
    '    image: mcp/dockerhub:1.0.0',
    '    env:',
    '      - name: HUB_PAT_TOKEN',
    `        value: ${CANARIES.dockerCatalogEnv}`,
    '    secrets:',
    '      - name: dockerhub.pat_token',
    '        env: HUB_PAT',
    `  dockerremote${suffix}:`,
    '    type: remote',
    '    remote:',
    '      url: https://mcp.example.com/docker/mcp',
    '      headers:',
    `        Authorization: "Bearer ${CANARIES.dockerCatalogHeader}"`,
    '',
  ].join('\n'));
  writeJson(path.join(docker, 'config.yaml'), `dockerhub${suffix}:\n  password: ${CANARIES.dockerSettings}\n`);
  // A Claude Code legacy plugin repo: a server with a secret env value, a hook with a secret argument.
  const plugin = path.join(home, '.claude', 'plugins', 'repos', `vault${suffix}`);
  writeJson(path.join(plugin, '.mcp.json'), { [`vault${suffix}`]: { command: '${CLAUDE_PLUGIN_ROOT}/bin/vault-mcp', env: { VAULT_TOKEN: CANARIES.pluginEnv } } });
  writeJson(path.join(plugin, 'hooks', 'hooks.json'), { hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: `\${CLAUDE_PLUGIN_ROOT}/audit.sh --api-key ${CANARIES.pluginHook}` }] }] } });
}

function expectNoCanary(text: string): void {
  for (const [name, value] of Object.entries(CANARIES)) {
    expect(`${name}: ${text.includes(value) ? 'LEAKED' : 'ok'}`).toBe(`${name}: ok`);
  }
}

describe('secret canaries', () => {
  let root: string;
  let home: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-canary-'));
    home = path.join(root, 'carol');
    plantSecrets(home);
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the table holds none of them', async () => {
    const r = await runCli(['scan', '--home', home, '--platform', 'linux']);
    expect(r.stdout).toMatch(/github +stdio/);
    expect(r.stdout).toContain('mcp.example.com');
    expect(r.stdout).toMatch(/ERRORS \([1-9]/);
    expectNoCanary(r.stdout + r.stderr);
  });

  it('--json holds none of them, yet names the variables and the findings', async () => {
    const r = await runCli(['scan', '--json', '--home', home, '--platform', 'linux']);
    const doc = JSON.parse(r.stdout);
    const github = doc.servers.find((s: { name: string }) => s.name === 'github');
    expect(github.envKeys).toEqual(['GITHUB_PERSONAL_ACCESS_TOKEN', 'SOME_SETTING']);
    const remote = doc.servers.find((s: { name: string }) => s.name === 'remote');
    expect(remote.headerKeys).toEqual(['Authorization']);
    expect(doc.findings.length).toBeGreaterThan(0);
    expect(doc.errors.some((e: { path: string }) => e.path.endsWith('settings.json'))).toBe(true);
    expectNoCanary(r.stdout + r.stderr);
  });

  it('--json holds none of the shapes that used to leak (issue 10), yet reports them', async () => {
    const r = await runCli(['scan', '--json', '--home', home, '--platform', 'linux']);
    const doc = JSON.parse(r.stdout);
    const names = doc.servers.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining(['spec-uvx', 'spec-pipx', 'docker', 'tokens', 'forms', 'params', 'codexspec']));
    const byName = (n: string) => doc.servers.find((s: { name: string }) => s.name === n);
    expect(byName('forms').envKeys).toEqual(['API_KEY']);
    expect(byName('params').headerKeys).toEqual(['Authorization']);
    expect(byName('spec-uvx').package).toMatchObject({ name: 'git+https://git.example.com/org/repo-mcp', version: 'v1.2.0' });
    expect(doc.errors.some((e: { path: string }) => e.path.endsWith(path.join('goose', 'config.yaml')))).toBe(true);
    const secretFindings = doc.findings.filter((f: { ruleId: string }) => f.ruleId === 'secret-in-config');
    for (const n of ['spec-uvx', 'spec-pipx', 'docker', 'tokens', 'forms', 'params', 'codexspec']) {
      expect(`${n}: ${secretFindings.some((f: { subject: { serverName?: string } }) => f.subject.serverName === n)}`).toBe(`${n}: true`);
    }
    expectNoCanary(r.stdout + r.stderr);
  });

  it('--json holds none of the issue 14 shapes (Docker MCP Toolkit, plugin servers and hooks), yet reports them', async () => {
    const r = await runCli(['scan', '--json', '--home', home, '--platform', 'linux']);
    const doc = JSON.parse(r.stdout);
    const byName = (n: string) => doc.servers.find((s: { name: string }) => s.name === n);
    expect(byName('dockerhub')).toMatchObject({ client: 'docker-mcp-toolkit', envKeys: ['HUB_PAT', 'HUB_PAT_TOKEN'], package: { name: 'mcp/dockerhub' } });
    expect(byName('dockerremote')).toMatchObject({ client: 'docker-mcp-toolkit', headerKeys: ['Authorization'] });
    expect(byName('vault')).toMatchObject({ client: 'claude-code', scope: 'plugin', envKeys: ['VAULT_TOKEN'] });
    expect(doc.extensions.some((e: { kind: string; hookCommand?: string }) => e.kind === 'hook' && (e.hookCommand ?? '').includes('audit.sh'))).toBe(true);
    expectNoCanary(r.stdout + r.stderr);
    const table = await runCli(['scan', '--home', home, '--platform', 'linux']);
    expectNoCanary(table.stdout + table.stderr);
  });

  it('watch output holds none of them, at start and for files written later', async () => {
    const later = path.join(root, 'dave');
    mkdirSync(later);
    const w = startWatch(['--home', later, '--platform', 'linux', '--debounce-ms', '50']);
    try {
      await w.ready;
      plantSecrets(later, '-later');
      await w.waitFor((e) => e.type === 'server.added' && (e.data as { name: string }).name === 'github-later');
      await w.waitFor((e) => e.type === 'server.added' && (e.data as { name: string }).name === 'remote-later');
      await w.waitFor((e) => e.type === 'config.error');
      await w.waitFor((e) => e.type === 'finding.raised');
    } finally {
      await w.stop();
    }
    expectNoCanary(w.rawStdout() + w.stderr());

    const w2 = startWatch(['--home', home, '--platform', 'linux']);
    try {
      await w2.ready;
      await w2.waitFor((e) => e.type === 'inventory.snapshot');
    } finally {
      await w2.stop();
    }
    expectNoCanary(w2.rawStdout() + w2.stderr());
  });
});
