/**
 * Canary test: secret values planted in every kind of field of every dialect must not appear
 * anywhere in what normalization and the rules engine produce (servers, warnings, errors,
 * findings), nor in redacted command lines.
 */
import { normalizeAll } from '../../helpers/normalize-all.js';
import { evaluateRules } from '../../../src/rules/index.js';
import { redactText } from '../../../src/secrets/index.js';
import type { ConfigError, ServerEntry } from '@mcpwatch/shared';
import type { ConfigFileResult, EntryDialect, RawServerEntry } from '../../../src/types.js';

// Each canary carries a unique marker; markers are what must never show up in output.
const M = (n: number) => `Cnry${n}Qx7Zt`;
const C = {
  envName: `envval-${M(1)}`, // any value under an env name
  header: `hdrval${M(2)}`,
  bearer: `bear${M(3)}Kp9`,
  flag: `flagval${M(4)}`,
  kv: `kvval${M(5)}`,
  userinfo: `pw${M(6)}`,
  query: `qv${M(7)}`,
  path: 'sk-' + 'proj-' + `${M(8)}aB3dE5fG7hJ9kL2mN4pQ6rS8`,
  github: 'gh' + 'p_' + `${M(9)}aB3dE5fG7hJ9kL2mN4pQ6rS8tU0`,
  jwt: 'eyJ' + 'hbGciOiJIUzI1NiJ9.eyJ' + `zdWIiOiJ4In0.${M(10)}aB3dE5fG7hJ9kL2mN4`,
  onestring: 'sk-' + 'ant-api03-' + `${M(11)}aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vWxYz`,
  bridge: `brpw${M(12)}`,
  inner: 'gh' + 'o_' + `${M(13)}aB3dE5fG7hJ9kL2mN4pQ6rS8tU0`,
  codexBearer: `cdx${M(14)}Lm4`,
  goose: `goose${M(15)}`,
  opencode: `oc${M(16)}`,
  zed: `zed${M(17)}`,
  cont: `cont${M(18)}`,
  doc: 'xox' + 'b-' + `1234567890-${M(19)}abcdefghij`,
  aws: 'AKIA' + 'Z7Q3W9X2K8L4M6N1',
  awsSecret: `wJalrXUtnFEMIK7MDENGbPxRfiCY${M(20)}`,
  cwd: 'gh' + 'p_' + `${M(21)}aB3dE5fG7hJ9kL2mN4pQ6rS8tU0`,
  fragment: `frag${M(22)}`,
  stripe: 'sk_' + 'live_' + `${M(23)}aB3dE5fG7hJ9`,
  pk: `-----BEGIN PRIVATE KEY-----\n${M(24)}MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----`,
};
const MARKERS = Object.keys(C).map((_, i) => M(i + 1)).concat([C.aws]);

function raw(name: string, value: unknown, dialect: EntryDialect = 'standard'): RawServerEntry {
  return { client: `client-${dialect}`, scope: 'user', configPath: `/home/u/${dialect}.json`, user: 'u', projectPath: null, name, raw: value, dialect };
}

const ENTRIES: RawServerEntry[] = [
  raw('env-and-args', {
    command: 'npx',
    args: [
      '-y', 'srv@latest', '--token', C.flag, `API_KEY=${C.kv}`, '-H', `Authorization: Bearer ${C.bearer}`, C.jwt,
      '--private-key', C.pk, `--stripe=${C.stripe}`,
    ],
    env: { GITHUB_TOKEN: C.github, ANY_NAME: C.envName, AWS_ACCESS_KEY_ID: C.aws, AWS_SECRET_ACCESS_KEY: C.awsSecret },
    cwd: `/home/u/${C.cwd}`,
  }),
  raw('remote', {
    url: `https://admin:${C.userinfo}@mcp.example.com/${C.path}/mcp?team=a&access_token=${C.query}#token=${C.fragment}`,
    headers: { 'X-Api-Key': C.header, Authorization: `Bearer ${C.bearer}` },
    autoApprove: ['*'],
  }),
  raw('one-string', { command: `uvx some-server --api-key ${C.onestring}` }),
  raw('bridge', { command: 'npx', args: ['-y', 'mcp-remote', `http://u:${C.bridge}@mcp.example.org/sse`] }),
  raw('gateway', { command: 'npx', args: ['-y', 'supergateway', '--stdio', `npx -y inner-srv --token ${C.inner}`] }),
  raw('codex', { url: 'https://mcp.example.com/mcp', bearer_token: C.codexBearer, env: { X: C.envName } }, 'codex'),
  raw('goose', { type: 'stdio', cmd: 'uvx', args: ['x'], envs: { GOOSE_SECRET: C.goose } }, 'goose'),
  raw('opencode', { type: 'local', command: ['npx', '-y', 'x', '--password', C.opencode], environment: { TOKEN: C.opencode } }, 'opencode'),
  raw('zed', { command: { path: 'npx', args: ['x'], env: { ZED_KEY: C.zed } } }, 'zed'),
  raw('continue', { name: 'c', type: 'sse', url: 'https://h.example.com/sse', requestOptions: { headers: { Authorization: C.cont } } }, 'continue'),
  raw('invalid', { env: { LEAK: C.github, OTHER: C.envName }, args: { bad: C.github } }),
];

function outputs(): { servers: ServerEntry[]; problems: ConfigError[]; text: string } {
  const { servers, problems } = normalizeAll(ENTRIES);
  const files: ConfigFileResult[] = [
    {
      path: '/home/u/standard.json', client: 'client-standard', scope: 'user', user: 'u', projectPath: null, format: 'json',
      entries: ENTRIES.filter((e) => e.dialect === 'standard'), errors: [], stat: { mode: 0o100666, uid: 1000, size: 1, mtimeMs: 0 },
      document: { misplaced: { env: { SLACK_BOT_TOKEN: C.doc } }, mcpServers: Object.fromEntries(ENTRIES.map((e) => [e.name, e.raw])) },
    },
  ];
  const findings = evaluateRules({ files, raw: ENTRIES, servers, platform: 'linux' });
  const text = JSON.stringify({ servers, problems, findings });
  return { servers, problems, text };
}

describe('secret canaries', () => {
  it('normalizes every planted entry (so the check below covers real output)', () => {
    const { servers, problems } = outputs();
    expect(servers).toHaveLength(ENTRIES.length - 1);
    expect(problems.map((p) => p.code)).toEqual(['invalid-entry']);
  });

  it('never lets a canary into servers, errors or findings', () => {
    const { text } = outputs();
    for (const marker of MARKERS) expect(text).not.toContain(marker);
  });

  it('reports every planted secret as a finding by field name', () => {
    const findings = JSON.parse(outputs().text).findings as Array<{ ruleId: string; subject: { serverName?: string }; evidence?: { field?: string } }>;
    const fields = findings.filter((f) => f.ruleId === 'secret-in-config').map((f) => `${f.subject.serverName ?? 'file'}:${f.evidence?.field}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'env-and-args:env.GITHUB_TOKEN',
        'env-and-args:env.AWS_ACCESS_KEY_ID',
        'env-and-args:env.AWS_SECRET_ACCESS_KEY',
        'env-and-args:args[3] (--token)',
        'env-and-args:args[4] (API_KEY)',
        'env-and-args:args[6] (-H)',
        'env-and-args:args[7]',
        'env-and-args:args[9] (--private-key)',
        'env-and-args:args[10]',
        'env-and-args:cwd',
        'remote:headers.X-Api-Key',
        'remote:headers.Authorization',
        'remote:url.userinfo',
        'remote:url.path',
        'remote:url.query.access_token',
        'remote:url.fragment',
        'one-string:args[2] (--api-key)',
        'bridge:args[2] (url.userinfo)',
        'codex:headers.Authorization',
        'goose:env.GOOSE_SECRET',
        'opencode:env.TOKEN',
        'zed:env.ZED_KEY',
        'continue:headers.Authorization',
        'invalid:env.LEAK',
        'file:misplaced.env.SLACK_BOT_TOKEN',
      ]),
    );
    // Server entries inside the document are reported once, as server findings.
    expect(fields.filter((f) => f.startsWith('file:'))).toEqual(['file:misplaced.env.SLACK_BOT_TOKEN']);
  });

  it('masks canaries in process command lines', () => {
    const line = `node srv.js --token ${C.flag} API_KEY=${C.kv} -H "Authorization: Bearer ${C.bearer}" ${C.jwt} ${C.github} https://u:${C.userinfo}@h.example.com/?access_token=${C.query} ${C.stripe} AWS_SECRET_ACCESS_KEY=${C.awsSecret} ${C.aws}`;
    const out = redactText(line);
    for (const marker of MARKERS) expect(out).not.toContain(marker);
    expect(out.startsWith('node srv.js --token')).toBe(true);
  });
});
