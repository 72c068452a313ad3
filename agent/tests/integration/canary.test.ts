/**
 * Secrets never leave: canary values planted in a fixture home (env values, arguments, headers,
 * URL userinfo, query tokens, and a malformed file around a secret) must not appear in the table,
 * in --json, nor in anything watch prints (snapshot and change events), on stdout or stderr.
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
    },
  });
  writeJson(path.join(home, '.cursor', 'mcp.json'), {
    mcpServers: {
      [`remote${suffix}`]: {
        url: `https://deploy:${CANARIES.userinfo}@mcp.example.com/mcp?token=${CANARIES.query}&region=eu`,
        headers: { Authorization: `Bearer ${CANARIES.header}` },
      },
    },
  });
  writeJson(path.join(home, '.gemini', 'settings.json'), `{ "mcpServers": { "x": { "env": { "OPENAI_API_KEY": "${CANARIES.malformed}" } ,, } `);
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
