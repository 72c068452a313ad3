/**
 * Secret shapes that used to leave the endpoint (issue 10, items 2-5): credentials in install
 * specs, prefix-less lower-case / base32 tokens, JSON and KEY=VALUE / --flag:VALUE arguments,
 * other spellings of secret query parameters, env/header keys that carry the value, and error
 * reasons that quote a value. Each case asserts that the planted marker is gone from every
 * output the normalizer and the rules produce, and that ordinary arguments are left alone.
 */
import { REDACTED, type ConfigError } from '@mcpwatch/shared';
import { normalizeEntry } from '../../../src/normalize/index.js';
import { normalizeAll } from '../../helpers/normalize-all.js';
import { evaluateRules } from '../../../src/rules/index.js';
import { assembleInventory } from '../../../src/inventory/scan.js';
import { redactCommandLine } from '../../../src/collect/process-command-line.js';
import {
  detectSecret,
  redactArgs,
  redactArgsDetailed,
  redactConfigError,
  redactKeyName,
  redactText,
  redactUrl,
} from '../../../src/secrets/index.js';
import type { ConfigFileResult, EntryDialect, RawServerEntry, ScanContext } from '../../../src/types.js';

// Values are assembled at run time; each carries a marker that must never show up in output.
const lower = (seed: number, n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789') =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 11 + seed * 7 + ((i * i) % 5)) % alphabet.length]).join('');
const HEX40 = lower(1, 40, '0123456789abcdef');
const LOWER36 = lower(2, 36);
const BASE32 = 'JBSWY3DPEHPK3PXP';
const BASE32_LONG = lower(3, 32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');

function raw(name: string, value: unknown, dialect: EntryDialect = 'standard'): RawServerEntry {
  return { client: 'claude-desktop', scope: 'user', configPath: '/home/u/c.json', user: 'u', projectPath: null, name, raw: value, dialect };
}

/** Everything the normalizer and the rules make of the entries, as one string. */
function everything(entries: RawServerEntry[]): string {
  const { servers, problems } = normalizeAll(entries);
  const files: ConfigFileResult[] = [
    {
      path: '/home/u/c.json', client: 'claude-desktop', scope: 'user', user: 'u', projectPath: null, format: 'json',
      entries, errors: [], stat: { mode: 0o100600, uid: 1000, size: 1, mtimeMs: 0 },
      document: { mcpServers: Object.fromEntries(entries.map((e) => [e.name, e.raw])) },
    },
  ];
  const findings = evaluateRules({ files, raw: entries, servers, platform: 'linux' });
  return JSON.stringify({ servers, problems, findings });
}

function expectGone(text: string, ...markers: string[]): void {
  for (const m of markers) expect(`${m}: ${text.includes(m) ? 'LEAKED' : 'ok'}`).toBe(`${m}: ok`);
}

describe('item 2: credentials in install specs', () => {
  const PASS = 'Pw2Spec9Marker';
  const TOK = 'tok2Spec7Marker';
  const cases: Array<[string, string, string[]]> = [
    ['uvx --from', 'uvx', ['--from', `git+https://deploy:${PASS}@git.example.com/org/repo`, 'repo-mcp']],
    ['uvx --from, rev', 'uvx', ['--from', `git+https://deploy:${PASS}@git.example.com/org/repo@v1.2.0`, 'repo-mcp']],
    ['uvx --from=', 'uvx', [`--from=git+https://${TOK}@github.com/org/repo.git`, 'repo-mcp']],
    ['uv tool run --from', 'uv', ['tool', 'run', '--from', `git+https://oauth2:${PASS}@gitlab.example.com/g/p.git`, 'p']],
    ['pipx run --spec', 'pipx', ['run', '--spec', `git+https://${TOK}@github.com/org/repo`, 'repo']],
    ['npx git+https', 'npx', ['-y', `git+https://user:${PASS}@github.com/org/repo.git#main`]],
    ['npx github tarball', 'npx', ['-y', `https://${TOK}:x-oauth-basic@codeload.github.com/org/repo/tar.gz/main`]],
    ['pip install', 'pip', ['install', `git+https://user:${PASS}@host.example.com/org/repo@main#egg=repo`]],
    ['pip PEP 508', 'pip', ['install', `repo @ git+https://${TOK}@host.example.com/org/repo`]],
    ['docker -e', 'docker', ['run', '-i', '--rm', '-e', `GITHUB_PERSONAL_ACCESS_TOKEN=${TOK}`, '-e', `DB_PASSWORD=${PASS}`, 'ghcr.io/github/github-mcp-server']],
    ['docker --env=', 'docker', ['run', '-i', `--env=API_KEY=${PASS}`, '--env', `SOME_SETTING=${LOWER36}`, 'mcp/x']],
    ['scheme-less user:password@host', 'node', ['srv.js', '--proxy', `svc:${PASS}@proxy.example.com:3128`, `--redis=default:${TOK}@cache.internal.example.com:6379`]],
    ['userinfo anywhere', 'node', ['srv.js', `--upstream=https://svc:${PASS}@api.example.com/v1`, `postgres://app:${TOK}@db.example.com/x`]],
  ];
  it.each(cases)('%s: no output holds the credential', (_label, command, args) => {
    const text = everything([raw('spec', { command, args })]);
    expectGone(text, PASS, TOK, LOWER36);
  });

  it('derives the package identity from the redacted spec', () => {
    const r = normalizeEntry(raw('u', { command: 'uvx', args: ['--from', `git+https://deploy:${PASS}@git.example.com/org/repo@v1.2.0`, 'repo-mcp'] }));
    expect(r.ok && r.server.package).toMatchObject({ ecosystem: 'pypi', name: 'git+https://git.example.com/org/repo', version: 'v1.2.0' });
    const n = normalizeEntry(raw('n', { command: 'npx', args: ['-y', `git+https://user:${PASS}@github.com/org/repo.git#main`] }));
    expect(n.ok && n.server.package?.name).toBe('git+https://github.com/org/repo.git#main');
    const d = normalizeEntry(raw('d', { command: 'docker', args: ['run', '-e', `TOKEN=${TOK}`, 'ghcr.io/org/img:1.0'] }));
    expect(d.ok && d.server.package).toMatchObject({ ecosystem: 'oci', name: 'ghcr.io/org/img', version: '1.0' });
    expect(d.ok && d.server.args).toContain(`TOKEN=${REDACTED}`);
  });

  it('keeps digests and commit revisions, which are not secrets, so pinning is still seen', () => {
    const digest = `sha256:${HEX40}${HEX40.slice(0, 24)}`;
    const d = normalizeEntry(raw('d', { command: 'docker', args: ['run', '-i', `ghcr.io/org/img@${digest}`] }));
    expect(d.ok && d.server.package).toMatchObject({ pinned: true, digest });
    expect(d.ok && d.server.args).toContain(`ghcr.io/org/img@${digest}`);
    const g = normalizeEntry(raw('g', { command: 'uvx', args: ['--from', `git+https://${TOK}@github.com/org/repo@${HEX40}`, 'repo'] }));
    expect(g.ok && g.server.package).toMatchObject({ name: 'git+https://github.com/org/repo', version: HEX40, pinned: true });
    const text = everything([raw('d', { command: 'docker', args: ['run', '-i', `ghcr.io/org/img@${digest}`] })]);
    expect(JSON.parse(text).findings.filter((f: { ruleId: string }) => f.ruleId === 'unpinned-package')).toEqual([]);
  });

  it('reports the credential in the spec as a finding', () => {
    const findings = JSON.parse(everything([raw('spec', { command: 'uvx', args: ['--from', `git+https://${TOK}@github.com/o/r`, 'r'] })])).findings;
    expect(findings.some((f: { ruleId: string }) => f.ruleId === 'secret-in-config')).toBe(true);
  });
});

describe('item 3: tokens without a known prefix or mixed case', () => {
  it.each([
    ['40 hex', HEX40],
    ['36 lower-case alnum', LOWER36],
    ['base32', BASE32],
    ['long base32', BASE32_LONG],
    ['base32 with padding', `${BASE32_LONG.slice(0, 26)}======`],
    ['lower-case base32', BASE32.toLowerCase()],
    ['base64 blob', 'dXNlcjpjb3JyZWN0aG9yc2ViYXR0ZXJ5c3RhcGxl'],
    ['base64url blob', 'q8Zk3_Lm-7Xw2Rt9Vb4Nc6Hp'],
    ['prefixed lower-case', `napi_${LOWER36}`],
    ['typed-looking lower-case', 'abcdefghijklmnopqrstuvwxyz123456'],
    ['upper-case alnum', 'X7K9P2M4Q8R1T6Y5U3V0W8'],
  ])('redacts %s as a positional argument', (_label, token) => {
    const args = ['-y', '@vendor/mcp-server', token];
    expect(redactArgs(args)).toEqual(['-y', '@vendor/mcp-server', REDACTED]);
    expect(redactText(`node srv.js ${token} --verbose`)).toBe(`node srv.js ${REDACTED} --verbose`);
    expectGone(everything([raw('tok', { command: 'npx', args })]), token);
  });

  it.each([
    ['scoped package', '@modelcontextprotocol/server-filesystem'],
    ['package with version', 'mcp-server-postgres@0.6.2'],
    ['path', '/Users/alice/projects/mcp-server-2024/build/index.js'],
    ['windows path', 'C:\\Users\\bob\\AppData\\Roaming\\npm\\node_modules\\x\\dist\\index.js'],
    ['port', '8080'],
    ['semver', '1.12.0-beta.3'],
    ['words', 'modelcontextprotocolserverfilesystem'],
    ['words with a digit', 'modelcontextprotocolserverfilesystem2'],
    ['word with a year', 'mcpserverpostgres2024release'],
    ['hostname', 'abc123def456ghi.execute-api.us-east-1.amazonaws.com'],
    ['snake_case', 'GOOGLE_MAPS_ENABLED_TOOLS_maps_geocode'],
    ['upper-case word', 'READONLYMODEENABLED'],
    ['uuid', 'af1e9b65-ab60-445f-89a6-2a9e1d7303fb'],
    ['short hex', 'b7bd16a026e3'],
    ['image', 'ghcr.io/github/github-mcp-server:v0.4.0'],
    ['flag', '--allowed-directories'],
    ['python module', 'mcp_server_git.server'],
    ['ssh spec', 'git@github.com:org/repo.git'],
    ['mailto', 'mailto:alice@example.com'],
    ['image with tag and digest', 'node:20@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
  ])('leaves %s alone', (_label, arg) => {
    expect(redactArgs(['x', arg])).toEqual(['x', arg]);
    expect(detectSecret(arg)).toBeNull();
  });
});

describe('item 4: JSON arguments and KEY=VALUE / --flag:VALUE forms', () => {
  const V = 'jsonVal4Marker';
  const SPACED = 'correct horse 4Marker staple';
  const json = JSON.stringify({ apiKey: `${V}a1`, nested: { auth: { token: `${V}b2` } }, headers: { Authorization: `Bearer ${V}c3` }, password: SPACED, region: 'eu-west-1', accessToken: `${V}d4`, refresh_token: `${V}e5` });
  const escaped = JSON.stringify(json).slice(1, -1); // {\"apiKey\":\"...\"}
  const broken = json.slice(0, -12); // does not parse
  const cases: Array<[string, string[]]> = [
    ['JSON argument', ['--config', json]],
    ['escaped JSON argument', ['--config', escaped]],
    ['JSON in --flag=', [`--config=${json}`]],
    ['escaped JSON in --flag=', [`--config=${escaped}`]],
    ['JSON that does not parse', [broken]],
    ['single-quoted JS object', [`{apiKey: '${V}a1', token: "${V}b2", password: '${SPACED}', x: 1}`]],
    ['JSON array of argv', [JSON.stringify(['--token', `${V}a1`, `--password=${SPACED}`])]],
    ['JSON list under a secret name', [JSON.stringify({ apiKeys: [`${V}a1`, SPACED], hosts: ['a.example.com'] })]],
    ['KEY=VALUE', [`API_KEY=${V}a1`, `db.password=${SPACED}`, `auth[token]=${V}b2`]],
    ['--flag=VALUE', [`--api-key=${V}a1`, `--client-secret=${V}b2`, `--pass=${V}c3`]],
    ['--flag:VALUE', [`--api-key:${V}a1`, `--token:${V}b2`, `/password:${V}c3`]],
    ['-Dkey=value', [`-Dapi.key=${V}a1`, `-Dspring.datasource.password=${V}b2`, `-Dauth.token=${V}c3`]],
    ['--header', ['--header', `Authorization: Bearer ${V}a1`, '-H', `X-Api-Key:${V}b2`, `--header=Authorization: Basic ${V}c3`]],
    ['--flag value with spaces', ['--password', SPACED]],
  ];
  it.each(cases)('%s', (_label, args) => {
    const text = everything([raw('j', { command: 'npx', args: ['-y', 'srv', ...args] })]);
    expectGone(text, V, SPACED);
    const line = redactCommandLine(`node /opt/srv.js ${args.map((a) => `'${a}'`).join(' ')}`);
    expectGone(line, V, SPACED);
  });

  it.each([
    ['deeply nested JSON', '{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}'],
    ['many escaped quotes', '{\\"'.repeat(20000)],
    ['many unterminated pairs', 'a:"'.repeat(20000)],
    ['long argv array', '[' + '"--token","x",'.repeat(3000) + '"z"]'],
  ])('finishes on %s', (_label, input) => {
    expect(typeof redactText(input)).toBe('string');
    expect(redactArgs([input])).toHaveLength(1);
    expect(typeof redactCommandLine(input)).toBe('string');
  });

  it('keeps the rest of a JSON argument as written', () => {
    const out = redactArgs([JSON.stringify({ apiKey: `${V}a1`, region: 'eu-west-1' })]);
    expect(out).toEqual([`{"apiKey":"${REDACTED}","region":"eu-west-1"}`]);
  });

  it('names the field of a JSON argument in the finding', () => {
    const hits = redactArgsDetailed(['--config', json]).hits;
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.field.startsWith('args[1]'))).toBe(true);
  });

  it('masks a one-string process command line without breaking it', () => {
    const out = redactCommandLine(`node srv.js --config "{\\"apiKey\\":\\"${V}a1\\"}" --port 8080 API_TOKEN=${V}b2`);
    expectGone(out, V);
    expect(out.startsWith('node srv.js --config ')).toBe(true);
    expect(out.endsWith(`--port 8080 API_TOKEN=${REDACTED}`)).toBe(true);
  });
});

describe('item 5: query spellings, keys carrying values, error reasons', () => {
  const Q = 'qry5Marker';
  it.each([
    ['pass', `https://h.example.com/mcp?user=a&pass=${Q}x1`],
    ['pwd', `https://h.example.com/mcp?pwd=${Q}x1`],
    ['session_id', `https://h.example.com/mcp?session_id=${Q}x1`],
    ['sessionid', `https://h.example.com/mcp?sessionid=${Q}x1`],
    ['auth[token]', `https://h.example.com/mcp?auth[token]=${Q}x1`],
    ['auth%5Btoken%5D', `https://h.example.com/mcp?auth%5Btoken%5D=${Q}x1`],
    ['access-token', `https://h.example.com/mcp?access-token=${Q}x1`],
    ['matrix ;token=', `https://h.example.com/mcp;token=${Q}x1/sse`],
    ['matrix ;jsessionid=', `https://h.example.com/app;jsessionid=${Q}x1?a=1`],
    ['semicolon query', `https://h.example.com/mcp?a=1;apikey=${Q}x1`],
    ['fragment access_token', `https://h.example.com/cb#access_token=${Q}x1&token_type=bearer`],
    ['fragment route', `https://h.example.com/#/cb?id_token=${Q}x1`],
    ['fragment api_key', `https://h.example.com/mcp#api_key=${Q}x1`],
    ['passphrase', `https://h.example.com/mcp?passphrase=${Q}x1`],
    ['X-Amz-Signature', `https://b.s3.amazonaws.com/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=${Q}x1`],
    ['client_secret', `https://h.example.com/token?client_id=app&client_secret=${Q}x1`],
    ['credentials[password]', `https://h.example.com/login?credentials[password]=${Q}x1`],
    ['bare token as the query', `https://h.example.com/mcp?${Q}${'k3x9q2m7w4p8z1r6t5y0u3v8n2b7c4d9'}`],
  ])('redacts %s', (_label, url) => {
    expect(redactUrl(url)).not.toContain(Q);
    expect(redactText(`see ${url} now`)).not.toContain(Q);
    expectGone(everything([raw('q', { url }), raw('b', { command: 'npx', args: ['-y', 'mcp-remote', url] })]), Q);
  });

  it('keeps ordinary query parameters', () => {
    expect(redactUrl('https://h.example.com/mcp?user_id=42&session=eu&page=2')).toBe('https://h.example.com/mcp?user_id=42&session=eu&page=2');
    expect(redactUrl('https://h.example.com/mcp;v=2?passive=true')).toBe('https://h.example.com/mcp;v=2?passive=true');
  });

  const K = 'key5Marker';
  it('emits env and header keys that carry a value without the value', () => {
    const entries = [
      raw('envkey', { command: 'npx', args: ['srv'], env: { [`API_KEY=sk-${K}abc`]: '', [`TOKEN: ${K}def`]: '', PLAIN: 'x' } }),
      raw('hdrkey', { url: 'https://h.example.com/mcp', headers: { [`Authorization: Bearer ${K}ghi`]: '', [`X-Api-Key=${K}jkl`]: 'x' } }),
      raw('goose', { cmd: 'uvx', args: ['x'], env_keys: [`OPENAI_API_KEY=${K}mno`] }, 'goose'),
      raw('codex', { url: 'https://h.example.com/mcp', env_http_headers: { [`Authorization: Bearer ${K}pqr`]: 'TOKEN_VAR' } }, 'codex'),
    ];
    const text = everything(entries);
    expectGone(text, K);
    const servers = entries.map((e) => normalizeEntry(e)).map((r) => (r.ok ? r.server : null));
    expect(servers[0]?.envKeys).toEqual(['API_KEY', 'PLAIN', 'TOKEN']);
    expect(servers[1]?.headerKeys).toEqual(['Authorization', 'X-Api-Key']);
    expect(redactKeyName(`API_KEY=${K}`)).toBe('API_KEY');
    expect(redactKeyName('GITHUB_TOKEN')).toBe('GITHUB_TOKEN');
    // A key that carries a value is a secret finding, named by the key name only.
    const findings = JSON.parse(text).findings as Array<{ evidence?: { field?: string } }>;
    expect(findings.map((f) => f.evidence?.field)).toEqual(expect.arrayContaining(['env.API_KEY', 'headers.Authorization']));
  });

  it('redacts values quoted back in error reasons', () => {
    const e: ConfigError = {
      path: '/home/u/.codex/config.toml', client: 'codex-cli', code: 'parse', line: 3, column: 9,
      reason: `invalid TOML: unexpected character at line 3: api_key = "${K}stu" and "${HEX40}"`,
      entry: null,
    };
    const out = redactConfigError(e);
    expectGone(JSON.stringify(out), K, HEX40);
    expect(out.reason.startsWith('invalid TOML: unexpected character at line 3: api_key = ')).toBe(true);
    expect(redactConfigError({ ...e, reason: `Unexpected token '}', "{"apiKey":"${K}vwx"... is not valid JSON` }).reason).not.toContain(K);
  });

  it('redacts reasons in the inventory document every output is built from', async () => {
    const ctx = { platform: 'linux', homes: [{ user: 'u', dir: '/home/u' }] } as unknown as ScanContext;
    const config = {
      files: [], projects: [], clients: [], servers: [],
      errors: [{ path: '/home/u/x.yaml', client: 'goose', code: 'parse', reason: `bad line: GITHUB_TOKEN: ${'gh' + 'p_'}${K}aB3dE5fG7hJ9kL2mN4pQ6rS8tU0` }],
    };
    const doc = await assembleInventory(ctx, config, { processes: [], sockets: [], errors: [] }, {
      evaluateRules: () => [],
      hostFacts: async () => ({ hostname: 'h', osName: null, osRelease: null, arch: null, hardwareUuid: null, serial: null }),
    });
    expectGone(JSON.stringify(doc), K);
    expect(doc.errors).toHaveLength(1);
  });
});
