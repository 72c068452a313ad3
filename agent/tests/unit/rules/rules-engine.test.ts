import { Value } from '@sinclair/typebox/value';
import { Finding, type ServerEntry } from '@mcpwatch/shared';
import { normalizeEntry } from '../../../src/normalize/index.js';
import { containerIssues, evaluateRules, RULES, type Rule } from '../../../src/rules/index.js';
import type { ConfigFileResult, EntryDialect, Platform, RawServerEntry } from '../../../src/types.js';
import { AgentError } from '../../../src/errors.js';

const PATH = '/home/u/.cursor/mcp.json';

function raw(name: string, value: unknown, dialect: EntryDialect = 'standard', configPath = PATH): RawServerEntry {
  return { client: 'cursor', scope: 'user', configPath, user: 'u', projectPath: null, name, raw: value, dialect };
}

function file(entries: RawServerEntry[], extra: Partial<ConfigFileResult> = {}): ConfigFileResult {
  return {
    path: entries[0]?.configPath ?? PATH,
    client: 'cursor',
    scope: 'user',
    user: 'u',
    projectPath: null,
    format: 'json',
    entries,
    errors: [],
    stat: { mode: 0o100644, uid: 1000, size: 100, mtimeMs: 0 },
    ...extra,
  };
}

/** Normalize entries the way the scan does and evaluate the rules over them. */
function run(entries: RawServerEntry[], opts: Parameters<typeof evaluateRules>[1] = {}, fileExtra: Partial<ConfigFileResult> = {}, platform: Platform = 'linux') {
  const servers: ServerEntry[] = [];
  for (const e of entries) {
    const r = normalizeEntry(e);
    if (r.ok) servers.push(r.server);
  }
  const findings = evaluateRules({ files: [file(entries, fileExtra)], raw: entries, servers, platform }, opts);
  for (const f of findings) expect(Value.Check(Finding, f)).toBe(true);
  return findings;
}

const byRule = (findings: Finding[], ruleId: string) => findings.filter((f) => f.ruleId === ruleId);
const GH = 'gh' + 'p_' + 'Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb';

describe('rule catalogue', () => {
  it('gives every rule a unique id, a severity, a title and a rationale', () => {
    const ids = RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULES) {
      expect(r.id).toMatch(/^[a-z][a-z0-9-]+$/);
      expect(r.title.length).toBeGreaterThan(10);
      expect(r.rationale.length).toBeGreaterThan(60);
    }
  });
});

describe('secret-in-config', () => {
  it('names the field and the kind, for env, headers, args and URLs', () => {
    const findings = byRule(
      run([
        raw('gh', { command: 'npx', args: ['-y', 'srv@1.0.0'], env: { GITHUB_TOKEN: GH, LOG_LEVEL: 'debug', OTHER: '${env:OTHER}' } }),
        raw('remote', { url: 'https://u:hunter2hunter2@h.example.com/mcp?api_key=abcdef123456', headers: { Authorization: 'Bearer abcdefghijklmnop1234' } }),
        raw('argy', { command: 'node', args: ['/opt/x.js', '--api-key', 'plainvalue99'] }),
      ]),
      'secret-in-config',
    );
    expect(findings.map((f) => [f.subject.serverName, f.evidence?.field, f.evidence?.kind]).sort()).toEqual(
      [
        ['argy', 'args[2] (--api-key)', 'credential'],
        ['gh', 'env.GITHUB_TOKEN', 'github-token'],
        ['remote', 'headers.Authorization', 'authorization-header'],
        ['remote', 'url.query.api_key', 'credential'],
        ['remote', 'url.userinfo', 'url-credentials'],
      ].sort(),
    );
    expect(findings.find((f) => f.evidence?.kind === 'github-token')?.severity).toBe('critical');
  });

  it('does not flag placeholders, references or empty values', () => {
    const findings = run([
      raw('a', { command: 'npx', args: ['-y', 'x@1.0.0'], env: { TAVILY_API_KEY: 'YOUR_TAVILY_API_KEY', BRAVE_API_KEY: '', T: '${input:t}', K: '%K%' } }),
      raw('b', { serverUrl: 'https://mcp.credos.dev', headers: { Authorization: 'Bearer ${env:CREDOS_MCP_API_KEY}' } }),
    ]);
    expect(byRule(findings, 'secret-in-config')).toEqual([]);
  });

  it('finds secrets outside server entries in the document, and in entries that failed to normalize', () => {
    const entries = [raw('ok', { command: 'uvx', args: ['x==1.0'] }), raw('broken', { env: { SLACK_TOKEN: 'xox' + 'b-1234567890-abcdefghijklmnopqrst' } })];
    const document = { mcpServers: { ok: entries[0]!.raw, broken: entries[1]!.raw }, fetch: { env: { FIGMA_API_KEY: 'figd_' + '0Ba7MXldOl9o5qQSOoSFmGOYyDbhrgbn5nakBAL' } }, userID: 'a'.repeat(20) + '0123456789abcdef0123456789abcdef0123' };
    const findings = byRule(run(entries, {}, { document }), 'secret-in-config');
    expect(findings.map((f) => [f.subject.serverName ?? null, f.evidence?.field, f.evidence?.kind]).sort()).toEqual(
      [
        ['broken', 'env.SLACK_TOKEN', 'slack-token'],
        [null, 'fetch.env.FIGMA_API_KEY', 'figma-token'],
      ].sort(),
    );
  });
});

describe('unpinned-package', () => {
  it('flags floating npm/pypi specs and images without digest, not exact versions or local scripts', () => {
    const findings = byRule(
      run([
        raw('latest', { command: 'npx', args: ['-y', '@upstash/context7-mcp@latest'] }),
        raw('none', { command: 'uvx', args: ['mcp-server-fetch'] }),
        raw('range', { command: 'npx', args: ['pkg@^1.2.0'] }),
        raw('tag', { command: 'docker', args: ['run', '-i', 'mcp/fetch:1.2'] }),
        raw('pinned', { command: 'npx', args: ['pkg@1.2.3'] }),
        raw('pinned-py', { command: 'uvx', args: ['pkg==1.2.3'] }),
        raw('digest', { command: 'docker', args: ['run', '-i', 'mcp/fetch@sha256:' + 'b'.repeat(64)] }),
        raw('local', { command: 'node', args: ['/opt/srv/index.js'] }),
      ]),
      'unpinned-package',
    );
    expect(findings.map((f) => [f.subject.serverName, f.severity, f.evidence?.detail]).sort()).toEqual(
      [
        ['latest', 'medium', 'npm @upstash/context7-mcp@latest'],
        ['none', 'medium', 'pypi mcp-server-fetch'],
        ['range', 'medium', 'npm pkg@^1.2.0'],
        ['tag', 'low', 'oci mcp/fetch:1.2'],
      ].sort(),
    );
  });
});

describe('plaintext-remote', () => {
  it('flags http to public and private hosts (high/medium), not loopback or https', () => {
    const findings = byRule(
      run([
        raw('public', { url: 'http://mcp.example.com/mcp' }),
        raw('lan', { url: 'http://192.168.0.7:8000/mcp' }),
        raw('bridge', { command: 'npx', args: ['-y', 'mcp-remote@1.0.0', 'http://mcp.example.org/sse'] }),
        raw('loop', { url: 'http://127.0.0.1:3845/mcp' }),
        raw('localhost', { url: 'http://localhost:3111/mcp' }),
        raw('v6', { url: 'http://[::1]:3000/mcp' }),
        raw('tls', { url: 'https://mcp.example.com/mcp' }),
      ]),
      'plaintext-remote',
    );
    expect(findings.map((f) => [f.subject.serverName, f.severity, f.evidence?.field]).sort()).toEqual(
      [
        ['bridge', 'high', 'remoteUrl'],
        ['lan', 'medium', 'url'],
        ['public', 'high', 'url'],
      ].sort(),
    );
  });
});

describe('auto-approve', () => {
  it('flags per-server autoApprove / alwaysAllow / trust and file-level settings of each client', () => {
    const entries = [
      raw('cline', { command: 'npx', args: ['x@1.0.0'], autoApprove: ['read'] }),
      raw('roo', { command: 'npx', args: ['x@1.0.0'], alwaysAllow: ['*'] }),
      raw('empty', { command: 'npx', args: ['x@1.0.0'], alwaysAllow: [] }),
      raw('gemini', { command: 'npx', args: ['x@1.0.0'], trust: true }),
      raw('codex', { command: 'npx', args: ['x@1.0.0'], tools: { run: { approval_mode: 'approve' } } }, 'codex'),
    ];
    const document = {
      'chat.tools.autoApprove': true,
      enableAllProjectMcpServers: true,
      permissions: { defaultMode: 'bypassPermissions', allow: ['mcp__github', 'mcp__fs__read_file', 'Bash(ls)'] },
      approval_policy: 'never',
      profiles: { fast: { approval_policy: 'never' } },
      GOOSE_MODE: 'auto',
      projects: { '/p': { enableAllProjectMcpServers: true } },
    };
    const findings = byRule(run(entries, {}, { document }), 'auto-approve');
    expect(findings.map((f) => [f.subject.serverName ?? 'file', f.evidence?.field, f.severity]).sort()).toEqual(
      [
        ['cline', 'autoApprove', 'medium'],
        ['roo', 'alwaysAllow', 'high'],
        ['gemini', 'trust', 'high'],
        ['codex', 'tools.*.approval_mode', 'medium'],
        ['file', 'chat.tools.autoApprove', 'high'],
        ['file', 'enableAllProjectMcpServers', 'high'],
        ['file', 'projects[/p].enableAllProjectMcpServers', 'high'],
        ['file', 'permissions.defaultMode', 'high'],
        ['file', 'permissions.allow', 'medium'],
        ['file', 'approval_policy', 'high'],
        ['file', 'profiles.fast.approval_policy', 'medium'],
        ['file', 'GOOSE_MODE', 'high'],
      ].sort(),
    );
  });
});

describe('command-in-writable-location', () => {
  it('flags commands and scripts in temp, shared and download folders on every OS', () => {
    const findings = byRule(
      run([
        raw('tmp', { command: '/tmp/mcp/server', args: [] }),
        raw('script', { command: 'node', args: ['/var/tmp/x/index.js'] }),
        raw('win', { command: 'C:\\Users\\me\\AppData\\Local\\Temp\\srv\\server.exe' }),
        raw('dl', { command: 'python', args: ['/Users/me/Downloads/server.py'] }),
        raw('fine', { command: '/usr/local/bin/srv' }),
      ]),
      'command-in-writable-location',
    );
    expect(findings.map((f) => [f.subject.serverName, f.severity]).sort()).toEqual(
      [
        ['dl', 'medium'],
        ['script', 'high'],
        ['tmp', 'high'],
        ['win', 'high'],
      ].sort(),
    );
  });
});

describe('config-writable-by-others', () => {
  const entries = [raw('x', { command: '/usr/bin/x' })];
  it('flags world- and group-writable files on unix', () => {
    const world = byRule(run(entries, {}, { stat: { mode: 0o100666, uid: 1, size: 1, mtimeMs: 0 } }), 'config-writable-by-others');
    expect(world.map((f) => [f.severity, f.evidence?.detail])).toEqual([['high', 'mode 0666 (world-writable)']]);
    const group = byRule(run(entries, {}, { stat: { mode: 0o100664, uid: 1, size: 1, mtimeMs: 0 } }), 'config-writable-by-others');
    expect(group.map((f) => f.severity)).toEqual(['medium']);
    expect(byRule(run(entries, {}, { stat: { mode: 0o100644, uid: 1, size: 1, mtimeMs: 0 } }), 'config-writable-by-others')).toEqual([]);
  });
  it('ignores mode bits on Windows and missing stats', () => {
    expect(byRule(run(entries, {}, { stat: { mode: 0o100666, uid: 1, size: 1, mtimeMs: 0 } }, 'win32'), 'config-writable-by-others')).toEqual([]);
    expect(byRule(run(entries, {}, { stat: null }), 'config-writable-by-others')).toEqual([]);
  });
});

describe('privileged-container', () => {
  it('reads docker run options up to the image', () => {
    expect(
      containerIssues([
        '-i', '--rm', '--privileged', '--cap-add=SYS_ADMIN', '--pid', 'host', '--network=host', '-v', '/:/host',
        '--mount', 'type=bind,src=/var/run/docker.sock,dst=/var/run/docker.sock', '-v', '/home/me/proj:/w', '-e', 'X=1',
        'image:1', '--privileged',
      ]).map((i) => i.id),
    ).toEqual(['privileged', 'cap-sys_admin', 'pid-host', 'network-host', 'host-mount', 'docker-socket']);
  });

  it('flags servers run through docker, also behind cmd /c', () => {
    const findings = byRule(
      run([
        raw('kali', { command: 'docker', args: ['run', '-i', '--rm', '--network', 'host', 'kali-mcp-server'] }),
        raw('win', { command: 'cmd', args: ['/c', 'docker', 'run', '-i', '-v', '//./pipe/docker_engine://./pipe/docker_engine', 'img'] }),
        raw('plain', { command: 'docker', args: ['run', '-i', '--rm', '-e', 'GITHUB_TOKEN', 'ghcr.io/github/github-mcp-server'] }),
      ]),
      'privileged-container',
    );
    expect(findings.map((f) => [f.subject.serverName, f.evidence?.detail?.split(' ')[0]]).sort()).toEqual([
      ['kali', '--network'],
      ['win', '-v'],
    ]);
  });
});

describe('exec-capable-server', () => {
  it('flags known shell/exec servers, filesystem roots, and claude mcp serve', () => {
    const findings = byRule(
      run([
        raw('dc', { command: 'npx', args: ['-y', '@wonderwhy-er/desktop-commander@latest'] }),
        raw('cmds', { command: 'npx', args: ['mcp-server-commands'] }),
        raw('smithery', { command: 'cmd', args: ['/c', 'npx', '-y', '@smithery/cli@latest', 'run', '@alxspiker/Windows-Command-Line-MCP-Server'] }),
        raw('k8s', { command: 'npx', args: ['-y', 'kubernetes-mcp-server@latest'] }),
        raw('fsroot', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', 'C:\\', 'D:\\'] }),
        raw('fsproj', { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/proj'] }),
        raw('claude', { command: 'claude', args: ['mcp', 'serve'] }),
        raw('fetch', { command: 'uvx', args: ['mcp-server-fetch'] }),
        raw('shell-auto', { command: 'uvx', args: ['mcp-shell-server'], alwaysAllow: ['run_command'] }),
      ]),
      'exec-capable-server',
    );
    expect(findings.map((f) => [f.subject.serverName, f.severity]).sort()).toEqual(
      [
        ['claude', 'high'],
        ['cmds', 'high'],
        ['dc', 'high'],
        ['fsroot', 'high'],
        ['k8s', 'medium'],
        ['shell-auto', 'critical'],
        ['smithery', 'high'],
      ].sort(),
    );
  });
});

describe('listening-all-interfaces', () => {
  it('flags MCP listening sockets bound to all interfaces, with an id that survives a pid change', () => {
    const sock = (pid: number, allInterfaces: boolean) => ({
      pid, processName: 'node', protocol: 'tcp' as const, localAddress: allInterfaces ? '0.0.0.0' : '127.0.0.1', localPort: 8931,
      kind: 'listen' as const, allInterfaces, serverKey: 'k'.repeat(32), client: 'cursor',
    });
    const a = evaluateRules({ files: [], raw: [], servers: [], platform: 'linux', sockets: [sock(10, true), sock(11, false)] });
    const b = evaluateRules({ files: [], raw: [], servers: [], platform: 'linux', sockets: [sock(99, true)] });
    expect(a.map((f) => f.ruleId)).toEqual(['listening-all-interfaces']);
    expect(a[0]!.id).toBe(b[0]!.id);
    expect(a[0]!.subject.pid).toBe(10);
  });
});

describe('process rules', () => {
  const proc = (over: Record<string, unknown>) => ({
    pid: 42, ppid: 1, name: 'node', cmd: 'node /opt/mcp/server.js --stdio', user: 'alice', kind: 'server' as const,
    client: 'claude-desktop', serverKey: null, match: 'pattern' as const, ...over,
  });
  const evalProcs = (processes: ReturnType<typeof proc>[]) => evaluateRules({ files: [], raw: [], servers: [], platform: 'linux', processes });

  it('flags MCP server processes running as root or SYSTEM, with ids that survive a restart', () => {
    const a = evalProcs([proc({ user: 'root', serverKey: 's'.repeat(32), match: 'config' }), proc({ pid: 7, user: 'NT AUTHORITY\\SYSTEM', serverKey: 't'.repeat(32), match: 'config' }), proc({ pid: 8, serverKey: 'u'.repeat(32), match: 'config' })]);
    expect(a.filter((f) => f.ruleId === 'server-process-as-admin').map((f) => f.subject.pid).sort()).toEqual([42, 7].sort());
    const b = evalProcs([proc({ pid: 4242, user: 'root', serverKey: 's'.repeat(32), match: 'config' })]);
    expect(b[0]!.id).toBe(a.find((f) => f.subject.pid === 42)!.id);
  });

  it('flags server processes recognised only by pattern, not client processes or configured servers', () => {
    const f = evalProcs([proc({}), proc({ pid: 2, kind: 'client', match: null }), proc({ pid: 3, serverKey: 'k'.repeat(32), match: 'config' })]);
    expect(f.map((x) => [x.ruleId, x.subject.pid, x.severity])).toEqual([['undeclared-server-process', 42, 'low']]);
  });
});

describe('engine', () => {
  const entries = [
    raw('dc', { command: 'npx', args: ['-y', 'desktop-commander'], env: { OPENAI_API_KEY: 'sk-' + 'proj-' + 'Ab3De5Gh7Jk9Lm2Np4Qr6St8Vw0Xy1Za3Cd5Ef' } }),
    raw('fetch', { command: 'uvx', args: ['mcp-server-fetch'] }),
  ];

  it('gives stable ids across runs and distinct ids per rule and subject', () => {
    const a = run(entries);
    const b = run(entries);
    expect(a.map((f) => f.id)).toEqual(b.map((f) => f.id));
    expect(new Set(a.map((f) => f.id)).size).toBe(a.length);
    // sorted by severity, highest first
    const ranks = a.map((f) => ['info', 'low', 'medium', 'high', 'critical'].indexOf(f.severity));
    expect([...ranks].sort((x, y) => y - x)).toEqual(ranks);
  });

  it('drops disabled rules and silences allow-listed servers, except their secrets', () => {
    const all = run(entries);
    expect(byRule(all, 'unpinned-package')).toHaveLength(2);
    const noUnpinned = run(entries, { disabledRules: ['unpinned-package'] });
    expect(byRule(noUnpinned, 'unpinned-package')).toEqual([]);
    const allowed = run(entries, { allowServers: ['dc', 'mcp-server-fetch'] });
    expect(allowed.map((f) => f.ruleId)).toEqual(['secret-in-config']);
  });

  it('isolates a failing rule and reports it with a code', () => {
    const errors: AgentError[] = [];
    const broken: Rule = { id: 'broken', severity: 'low', title: 'broken rule for tests', rationale: 'x'.repeat(70), evaluate: () => { throw new Error('boom'); } };
    const findings = evaluateRules(
      { files: [], raw: [], servers: [], platform: 'linux' },
      { rules: [broken, ...RULES], reportError: (e) => errors.push(e) },
    );
    expect(findings).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['MCPW_ERR_RULE_FAILED']);
    expect((errors[0]!.cause as Error).message).toBe('boom');
  });

  it('skips whole a rule that returns no list or a malformed hit, keeps the others, and never throws (even when the reporter does)', () => {
    const gh = raw('gh', { command: 'npx', args: ['-y', 'srv'], env: { GITHUB_TOKEN: GH } });
    const notAList: Rule = { id: 'not-a-list', severity: 'low', title: 'returns no list of hits', rationale: 'x'.repeat(70), evaluate: () => null as unknown as [] };
    const halfBad: Rule = {
      id: 'half-bad',
      severity: 'low',
      title: 'one good hit, then a malformed one',
      rationale: 'x'.repeat(70),
      evaluate: () => [{ key: 'ok', subject: {} }, null as unknown as { key: string; subject: object }],
    };
    const errors: AgentError[] = [];
    const findings = run([gh], { rules: [notAList, halfBad, ...RULES], reportError: (e) => errors.push(e) });
    expect(errors.map((e) => e.message)).toEqual(['rule not-a-list failed and was skipped', 'rule half-bad failed and was skipped']);
    expect(findings.some((f) => f.ruleId === 'half-bad' || f.ruleId === 'not-a-list')).toBe(false);
    expect(byRule(findings, 'secret-in-config')).toHaveLength(1);
    expect(byRule(findings, 'unpinned-package')).toHaveLength(1);
    const throwingReporter = () => {
      throw new Error('reporter down');
    };
    expect(() => run([gh], { rules: [notAList, ...RULES], reportError: throwingReporter })).not.toThrow();
    // The message names the rule only: a cause quoting a value the rule read never leaves through it.
    expect(errors.every((e) => !e.message.includes(GH))).toBe(true);
  });
});
