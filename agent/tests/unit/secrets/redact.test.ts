import { REDACTED } from '@mcpwatch/shared';
import {
  classifySecret,
  detectSecret,
  isReference,
  redactArgs,
  redactArgsDetailed,
  redactText,
  redactUrl,
  redactUrlDetailed,
} from '../../../src/secrets/index.js';

// Test credentials are assembled at run time so that no scanner mistakes this file for a leak.
const rnd = (n: number, alphabet = 'aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vWxYz') =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const FAKE = {
  github: 'gh' + 'p_' + rnd(36),
  githubPat: 'github' + '_pat_' + rnd(22) + '_' + rnd(59),
  openai: 'sk-' + 'proj-' + rnd(48),
  openaiLegacy: 'sk-' + rnd(48),
  anthropic: 'sk-' + 'ant-api03-' + rnd(80),
  awsId: 'AKIA' + 'Q3ZT7W2KX9LM4NPR',
  slack: 'xox' + 'b-' + '1234567890-' + rnd(24),
  slackHook: 'https://hooks.slack.com/services/' + 'T0AB12CD3/B0EF45GH6/' + rnd(24),
  stripe: 'sk_' + 'live_' + rnd(24),
  google: 'AI' + 'za' + rnd(35),
  jwt: 'eyJ' + 'hbGciOiJIUzI1NiJ9' + '.eyJ' + 'zdWIiOiIxMjM0NTY3ODkwIn0' + '.' + rnd(43),
  privateKey: '-----BEGIN ' + 'RSA PRIVATE KEY-----\nMIIEow' + rnd(60) + '\n-----END RSA PRIVATE KEY-----',
  generic: 'KJWmbR7SbiQpk39ceuf2Cx73FvA-smtEL_C6aRb_1wI',
};

describe('detectSecret', () => {
  it.each([
    ['github', FAKE.github, 'github-token'],
    ['github fine-grained', FAKE.githubPat, 'github-token'],
    ['openai project', FAKE.openai, 'openai-api-key'],
    ['openai legacy', FAKE.openaiLegacy, 'openai-api-key'],
    ['anthropic', FAKE.anthropic, 'anthropic-api-key'],
    ['aws access key id', FAKE.awsId, 'aws-access-key-id'],
    ['slack token', FAKE.slack, 'slack-token'],
    ['slack webhook', FAKE.slackHook, 'slack-webhook'],
    ['stripe', FAKE.stripe, 'stripe-key'],
    ['google', FAKE.google, 'google-api-key'],
    ['jwt', FAKE.jwt, 'jwt'],
    ['private key', FAKE.privateKey, 'private-key'],
    ['generic', FAKE.generic, 'generic-high-entropy'],
    ['bearer generic', 'Bearer ' + FAKE.generic, 'generic-high-entropy'],
    ['embedded in text', 'token is ' + FAKE.github + ' ok', 'github-token'],
  ])('finds %s', (_label, value, kind) => {
    expect(detectSecret(value)).toEqual({ kind });
  });

  it.each([
    ['path', '/Users/alice/Library/Application Support/Claude/x7Kq9ZpL2mN4'],
    ['windows path', 'C:\\Users\\Administrator\\AppData\\Roaming\\Cursor\\User\\workspaceStorage\\9cf836c983c1c7e6a036a3512baeeecc'],
    ['url', 'https://mcp.example.com/v1/mcp'],
    ['uuid', 'af1e9b65-ab60-445f-89a6-2a9e1d7303fb'],
    ['placeholder', 'your-openrouter-api-key-here'],
    ['placeholder caps', 'YOUR_TAVILY_API_KEY'],
    ['angle placeholder', '<GITHUB_TOKEN>'],
    ['xxx', 'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['input reference', '${input:github_token}'],
    ['env reference', '${env:API_KEY}'],
    ['bearer reference', 'Bearer ${env:CREDOS_MCP_API_KEY}'],
    ['shell var', '$GITHUB_TOKEN'],
    ['windows var', '%GITHUB_TOKEN%'],
    ['scoped package', '@modelcontextprotocol/server-sequential-thinking'],
    ['package with version', 'next-devtools-mcp@0.3.6'],
    ['image', 'ghcr.io/github/github-mcp-server'],
    ['digest', 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'],
    ['words', 'GOOGLE_MAPS_ENABLED_TOOLS_maps_geocode'],
    ['short', 'b7bd16a026e3'],
    ['aws docs example', 'AKIAIOSFODNN7EXAMPLE'],
  ])('leaves alone %s', (_label, value) => {
    expect(detectSecret(value)).toBeNull();
  });
});

describe('isReference / classifySecret', () => {
  it('recognises references in every syntax', () => {
    for (const v of ['${input:x}', '${env:X}', '${X}', '$X', '%X%', '{{ secrets.X }}', 'Bearer ${X}', '{env:X}', 'Bearer {file:~/.tok}', '${X:-default}']) {
      expect(isReference(v)).toBe(true);
    }
    expect(isReference('abc${X}')).toBe(false);
  });

  it('flags any real-looking value under a credential name, not placeholders or numbers', () => {
    expect(classifySecret('MOLLIE_API_OAUTH_ORG_TOKEN', 'mollieorgtoken2024')).toEqual({ kind: 'credential' });
    expect(classifySecret('MOLLIE_API_OAUTH_ORG_TOKEN', 'access_27Kq6ysHnPcGV2UWhasEBU7cJysfjNm6Maay3TPH')).toEqual({ kind: 'generic-high-entropy' });
    expect(classifySecret('DB_PASSWORD', 'hunter2hunter2')).toEqual({ kind: 'credential' });
    expect(classifySecret('AWS_SECRET_ACCESS_KEY', 'abcdefghij')).toEqual({ kind: 'aws-secret-access-key' });
    expect(classifySecret('GITHUB_TOKEN', 'YOUR_NEW_TOKEN_HERE')).toBeNull();
    expect(classifySecret('BRAVE_API_KEY', '')).toBeNull();
    expect(classifySecret('MAX_TOKENS', '4096')).toBeNull();
    expect(classifySecret('TOKEN_FILE', '/etc/secret/token')).toBeNull();
    expect(classifySecret('GITHUB_USERNAME', 'octocat-the-great')).toBeNull();
    expect(classifySecret('env_key', 'SAKANA_API_KEY')).toBeNull(); // names a variable
    expect(classifySecret('AUTH_HEADER', 'Bearer plainvalue1234')).toEqual({ kind: 'authorization-header' });
    expect(classifySecret('SOMETHING', 'Bearer ${TOKEN}')).toBeNull();
    expect(classifySecret('API_KEY', 'OPENAI_API_KEY')).toBeNull();
  });
});

describe('redactUrl', () => {
  it('drops userinfo and redacts secret query values, keeping the rest as written', () => {
    expect(redactUrl('https://user:' + 'pa55word-x1@mcp.example.com/mcp?tenant=acme&api_key=abc123def456')).toBe(
      `https://mcp.example.com/mcp?tenant=acme&api_key=${REDACTED}`,
    );
    expect(redactUrl('https://mcp.credos.dev')).toBe('https://mcp.credos.dev');
    expect(redactUrl('https://x.dev/mcp?token=${input:tok}')).toBe('https://x.dev/mcp?token=${input:tok}');
  });

  it('redacts secrets in path segments and reports where they were', () => {
    const r = redactUrlDetailed(`https://actions.example.com/mcp/${FAKE.openai}/sse`);
    expect(r.url).toBe(`https://actions.example.com/mcp/${REDACTED}/sse`);
    expect(r.hits).toEqual([{ kind: 'openai-api-key', field: 'url.path' }]);
  });

  it('returns non-URL text redacted rather than throwing', () => {
    expect(redactUrl('not a url ' + FAKE.github)).toBe(`not a url ${REDACTED}`);
  });
});

describe('redactArgs', () => {
  it('redacts values after credential flags, header args, KEY=VALUE and embedded URLs', () => {
    const args = [
      '-y', '@smithery/cli@latest', 'run', 'x', '--key', 'af1e9b65-ab60-445f-89a6-2a9e1d7303fb',
      '--header', 'Authorization: Bearer ' + FAKE.generic,
      '--header', 'Authorization: Bearer ${MOLLIE_TOKEN}',
      '-e', 'FRED_API_KEY=realvalue123456', '-e', 'MCP_TIMEOUT=300',
      '--api-key=' + FAKE.stripe,
      'postgresql://postgres.abc:5NDQYUg5TR4eS1j2@db.example.com:5432/postgres',
      FAKE.jwt,
      '--profile', 'yummy-dove-oD2ldW',
    ];
    const r = redactArgsDetailed(args);
    expect(r.args).toEqual([
      '-y', '@smithery/cli@latest', 'run', 'x', '--key', REDACTED,
      '--header', `Authorization: ${REDACTED}`,
      '--header', 'Authorization: Bearer ${MOLLIE_TOKEN}',
      '-e', `FRED_API_KEY=${REDACTED}`, '-e', 'MCP_TIMEOUT=300',
      `--api-key=${REDACTED}`,
      `postgresql://${REDACTED}@db.example.com:5432/postgres`,
      REDACTED,
      '--profile', 'yummy-dove-oD2ldW',
    ]);
    expect(r.hits.map((h) => h.field)).toEqual([
      'args[5] (--key)', 'args[7] (--header)', 'args[11] (FRED_API_KEY)', 'args[14] (--api-key)', 'args[15] (url.userinfo)', 'args[16]',
    ]);
    expect(JSON.stringify(r)).not.toContain('5NDQYUg5TR4eS1j2');
  });

  it('keeps placeholders and references', () => {
    expect(redactArgs(['-e', 'FRED_API_KEY=YOUR_FRED_API_KEY', '--token', '${input:t}'])).toEqual([
      '-e', 'FRED_API_KEY=YOUR_FRED_API_KEY', '--token', '${input:t}',
    ]);
  });
});

describe('redactText', () => {
  it('masks every kind of secret in a command line', () => {
    const line = `node server.js --token ${FAKE.github} OPENAI_API_KEY=${FAKE.openai} -H "Authorization: Bearer ${FAKE.generic}" https://u:pw123456@h.example.com/x?sig=${FAKE.generic}`;
    const out = redactText(line);
    for (const v of [FAKE.github, FAKE.openai, FAKE.generic, 'pw123456']) expect(out).not.toContain(v);
    expect(out).toContain('node server.js --token');
    expect(out).toContain('h.example.com/x?sig=');
  });

  it('leaves ordinary command lines unchanged', () => {
    const line = 'npx -y @modelcontextprotocol/server-filesystem /Users/alice/Projects --verbose';
    expect(redactText(line)).toBe(line);
  });
});

describe('pathological input', () => {
  // Each of these once made a regular expression backtrack for minutes; they must simply finish
  // (Jest's test timeout is the only limit) and return strings.
  const inputs = [
    'your' + 'a'.repeat(5000) + '!',
    'your-' + 'ab-'.repeat(3000),
    'a='.repeat(20000),
    'x'.repeat(60000),
    ('Authorization: ' + 'b'.repeat(100) + ' ').repeat(500),
    'https://' + 'a@'.repeat(5000),
    '-----BEGIN PRIVATE KEY-----' + 'A'.repeat(50000),
    'eyJ' + 'a'.repeat(30000),
    '"'.repeat(10000) + "'".repeat(10000),
    'sk-' + 'a-'.repeat(10000),
    'git+' + 'a'.repeat(20000),
  ];
  it.each(inputs.map((s) => [s.slice(0, 16), s]))('handles %j', (_label, input) => {
    expect(typeof redactText(input)).toBe('string');
    expect(typeof redactUrl(input)).toBe('string');
    expect(redactArgs([input])).toHaveLength(1);
    expect(detectSecret(input) === null || typeof detectSecret(input)?.kind === 'string').toBe(true);
  });

  it('cuts free text beyond the scan limit instead of passing it through unscanned', () => {
    const long = 'a '.repeat(40000) + 'gh' + 'p_' + 'Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb';
    const out = redactText(long);
    expect(out.length).toBeLessThanOrEqual(65536);
    expect(out).not.toContain('Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb');
  });
});
