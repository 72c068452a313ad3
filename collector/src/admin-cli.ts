/**
 * `mcpwatch`: the query and admin CLI over the collector's HTTP API.
 *
 *   mcpwatch [--server URL] [--token T] [--ca FILE | --insecure] [--json] COMMAND [ARGS] [FILTERS]
 *
 * The server and token also come from MCPWATCH_SERVER / MCPWATCH_TOKEN (prefer the environment
 * for the token: command lines are visible to other users). Output is a table by default, the
 * API's JSON with --json. The token is sent only in the Authorization header, never printed.
 *
 * Everything printed that came from the collector (names, hostnames, titles, paths, commands,
 * error messages) is terminal-safe: control, C1, format and bidi characters are shown as visible
 * escapes in tables and text (shared terminalSafe) and as \uXXXX escapes in JSON
 * (jsonTerminalSafe), so an agent's data cannot drive the analyst's terminal.
 *
 * Exit codes: 0 success, 1 the request failed (the collector's coded error is printed), 2 usage.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { jsonTerminalSafe, terminalSafe, tokenizeArgv } from '@mcpwatch/shared';
import { ApiError } from './api-error.js';

const USAGE = `usage: mcpwatch [--server URL] [--token TOKEN] [--ca FILE | --insecure] [--json] COMMAND

query (token scope read):
  endpoints [--os X] [--hostname X] [--user X] [--client X] [--server-name X] [--severity S]
            [--last-seen-after T] [--last-seen-before T]
  endpoint ID [--events N]            current inventory (servers, findings, clients, processes,
                                      sockets, config errors) and recent events of one endpoint
  servers [--name X] [--package X] [--transport T] [--client X] [--risk S]
  server FINGERPRINT                  which endpoints run this server
  findings [--severity S] [--rule R] [--status open|resolved] [--endpoint ID]
  events [--since T] [--until T] [--endpoint ID] [--type T]
  tools [--name X] [--server-name X] [--capability shell-exec|file-write|network-fetch|credential-access]
        [--min-endpoints N] [--max-endpoints N] [--order most|least]
                                      MCP tools across the fleet, with prevalence (rarest first: --order least)
  tools endpoints NAME [--server-name X] [--version V] [--sha256 H]
                                      which endpoints expose tool NAME (with this description hash)
  tools endpoint ID                   the tools of one endpoint
  tools divergence                    same server version, different tool hashes on some endpoints
  tools definitions [--fingerprint FP] [--name X]  fleet-wide tool hashes per server fingerprint + version
  tool-calls [--endpoint ID] [--since T] [--until T] [--server-name X] [--tool X]
             [--decision allow|deny|ask] [--client X]   MCP tool calls seen through client hooks
  lists also take [--limit N] [--cursor C] [--all]; tables end with the time the data is
  complete up to (the projection's lag behind ingest)
admin (token scope admin):
  agents [--revoked]                  agents revoke ID    agents restore ID
  secrets                             secrets create NAME [--secret S]    secrets revoke NAME
  tokens                              tokens create NAME --scope read|admin    tokens revoke ID
  verify-history [--endpoint ID] [--since T]  re-verify the stored batch log (signatures, hash
                                      chain); lists rows that do not verify, exit 1 if any
  quarantine ENDPOINT SERVERKEY --reason R   take a server out of effect on an endpoint (signed
                                             command, delivered in the agent's next batch ack)
  restore ENDPOINT SERVERKEY --reason R      put it back
  status [--endpoint ID] [--server-key K]    containment audit trail and state
  policy [show]                       the tool policy served to agents (client hooks)
  policy set FILE --reason R          replace it with the ToolPolicy JSON in FILE (audited)
  policy clear --reason R             remove it (hooks audit only)    policy audit   its changes
analyst MCP server (stdio; for Claude Desktop, Claude Code, Cursor):
  mcp                                 reads MCPWATCH_SERVER, MCPWATCH_TOKEN, MCPWATCH_CA_FILE

environment: MCPWATCH_SERVER (e.g. https://collector:8443), MCPWATCH_TOKEN, MCPWATCH_CA_FILE
`;

/** Where the CLI reads and writes (injectable for tests). */
export interface AdminCliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

/** Flags that take no value. */
const BOOLEAN_FLAGS = new Set(['json', 'insecure', 'all', 'revoked', 'help']);

/** Parses argv with the shared tokenizer (util.parseArgs): every flag but BOOLEAN_FLAGS takes a value. */
function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const valueFlags = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0] as string).filter((n) => n !== '' && !BOOLEAN_FLAGS.has(n));
  let shortIndex = -1;
  for (const t of tokenizeArgv(argv, valueFlags)) {
    if (t.kind === 'positional') positional.push(t.value);
    else if (t.kind === 'option-terminator') positional.push('--');
    else if (!t.rawName.startsWith('--')) {
      // Short options: -h is help; anything else (a group such as -xy once) is an argument as written.
      if (t.index === shortIndex) continue;
      shortIndex = t.index;
      if (argv[t.index] === '-h') flags.set('help', true);
      else positional.push(argv[t.index] as string);
    } else if (t.inlineValue) flags.set(t.name, t.value as string);
    else if (BOOLEAN_FLAGS.has(t.name)) flags.set(t.name, true);
    else if (t.value === undefined) throw new UsageError(`--${t.name} needs a value`);
    else flags.set(t.name, t.value);
  }
  return { positional, flags };
}

/** The collector's HTTP API as the CLI and the analyst MCP server call it. */
export interface Client {
  request(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<unknown>;
  /** The last query reply's freshness (x-mcpwatch-complete-up-to, x-mcpwatch-projection-lag-seconds). */
  freshness?: { completeUpTo: string; lagSeconds: number } | undefined;
}

/** verify-history found rows that do not verify: printed, exit code 1. */
class VerifyFailed extends Error {}

/** The footer of a query table: how fresh the answer is. */
function freshnessFooter(client: Client): string {
  const f = client.freshness;
  return f ? `(data complete up to ${terminalSafe(f.completeUpTo)}; projection lag ${f.lagSeconds.toFixed(1)} s)\n` : '';
}

// A non-2xx reply: status and the collector's coded error (the analyst MCP server imports it from here).
export { ApiError };

/** A client for `server` with `token` (sent only in the Authorization header). */
export function makeClient(server: string, token: string, opts: { ca?: string; insecure: boolean }): Client {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(server)} is not a URL (e.g. https://127.0.0.1:8443)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError('--server must be an http:// or https:// URL');
  const lib = base.protocol === 'https:' ? https : http;
  const client: Client = {
    request: (method, path, body) =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = lib.request(
          new URL(path, base),
          {
            method,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
            },
            timeout: 30_000,
            ...(base.protocol === 'https:' ? { ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: !opts.insecure } : {}),
          },
          (res) => {
            const upTo = res.headers['x-mcpwatch-complete-up-to'];
            if (typeof upTo === 'string') client.freshness = { completeUpTo: upTo, lagSeconds: Number(res.headers['x-mcpwatch-projection-lag-seconds'] ?? 0) };
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > 64 * 1024 * 1024) req.destroy(new Error('reply larger than 64 MiB'));
              else chunks.push(c);
            });
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = text ? JSON.parse(text) : null;
              } catch {
                json = null;
              }
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) return resolve(json);
              reject(ApiError.fromReply(status, json, text.slice(0, 200) || `HTTP ${status}`));
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('no reply within 30 s')));
        req.on('error', reject);
        req.end(payload);
      }),
  };
  return client;
}

/** Query string from flag names (CLI, kebab-case) to API parameter names. */
function query(p: Parsed, mapping: Record<string, string>): string {
  const qs = new URLSearchParams();
  for (const [flag, param] of Object.entries({ ...mapping, limit: 'limit' })) {
    const v = p.flags.get(flag);
    if (typeof v === 'string') qs.set(param, v);
  }
  const s = qs.toString();
  return s ? `?${s}` : '';
}

type Row = Record<string, unknown>;
type Column = [header: string, value: (r: Row) => unknown];

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  const s = Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const flat = terminalSafe(s).replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
}

/** A plain text table: a header line, then one line per row, columns padded to their widest cell. */
export function renderTable(rows: Row[], columns: Column[]): string {
  const cells = rows.map((r) => columns.map(([, f]) => cell(f(r))));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(columns.map(([h]) => terminalSafe(h))), ...cells.map(line)].join('\n') + '\n';
}

const col = (header: string, key: string): Column => [header, (r) => r[key]];

const COLUMNS: Record<string, Column[]> = {
  endpoints: [col('ENDPOINT', 'endpointId'), col('HOSTNAME', 'hostname'), col('OS', 'platform'), col('AGENT', 'agentVersion'), col('LAST SEEN', 'lastSeen'), col('DUPLICATE OF', 'duplicateOf')],
  servers: [col('FINGERPRINT', 'fingerprint'), col('NAMES', 'names'), col('TRANSPORT', 'transport'), ['PACKAGE', (r) => (r.packageName ? `${r.packageName}${r.packageVersion ? `@${r.packageVersion}` : ''}` : (r.url ?? r.command))], col('ENDPOINTS', 'endpointCount'), col('RISK', 'maxSeverity')],
  server: [col('ENDPOINT', 'endpointId'), col('HOSTNAME', 'hostname'), col('NAME', 'name'), col('CLIENT', 'client'), col('USER', 'user'), col('CONFIG', 'configPath')],
  findings: [col('SEVERITY', 'severity'), col('RULE', 'ruleId'), col('STATUS', 'status'), col('HOSTNAME', 'hostname'), col('TITLE', 'title'), col('LAST SEEN', 'lastSeen')],
  events: [col('TIME', 'time'), col('TYPE', 'type'), col('ENDPOINT', 'endpointId'), col('ID', 'id')],
  agents: [col('AGENT', 'agentId'), col('ENDPOINT', 'endpointId'), col('HOSTNAME', 'hostname'), col('ENROLLED', 'enrolledAt'), col('REVOKED', 'revokedAt'), col('LAST SEQ', 'lastSeq')],
  secrets: [col('NAME', 'name'), col('CREATED', 'createdAt'), col('REVOKED', 'revokedAt')],
  containment: [col('REQUESTED', 'requestedAt'), col('ACTION', 'action'), col('ENDPOINT', 'endpointId'), col('SERVER KEY', 'serverKey'), col('STATUS', 'status'), ['BY', (r) => (r.actor as Row | undefined)?.name], col('REASON', 'reason'), col('RESULT', 'resultDetail')],
  tools: [col('SERVER', 'serverName'), col('TOOL', 'name'), col('ENDPOINTS', 'endpoints'), col('VARIANTS', 'descriptionVariants'), col('CAPABILITIES', 'capabilities'), col('SERVER ID', 'serverId')],
  'tool-endpoints': [col('ENDPOINT', 'endpointId'), col('HOSTNAME', 'hostname'), col('SERVER', 'serverName'), col('VERSION', 'serverVersion'), col('TOOL', 'name'), col('CAPABILITIES', 'capabilities'), ['DESCRIPTION SHA-256', (r) => String(r.descriptionSha256 ?? '').slice(0, 16)], col('LAST SEEN', 'lastSeen')],
  'tool-definitions': [col('SERVER ID', 'serverId'), col('VERSION', 'serverVersion'), col('TOOL', 'name'), col('ENDPOINTS', 'endpoints'), ['DEFINITIONS', (r) => (r.definitions as Row[]).length], ['MAJORITY DESCRIPTION SHA-256', (r) => String((r.majority as Row | null)?.descriptionSha256 ?? '-').slice(0, 16)]],
  'tool-divergence': [col('SERVER', 'serverName'), col('VERSION', 'serverVersion'), col('TOOL', 'name'), ['MAJORITY', (r) => (r.majority as Row).endpoints], ['DIVERGENT ENDPOINTS', (r) => (r.divergent as Row[]).map((d) => d.endpointId)], col('SERVER ID', 'serverId')],
  'tool-calls': [col('TIME', 'time'), col('ENDPOINT', 'endpointId'), col('CLIENT', 'client'), col('USER', 'user'), col('SERVER', 'server'), col('TOOL', 'tool'), col('DECISION', 'decision'), ['ENFORCED', (r) => (r.enforced ? 'yes' : 'no (audit)')], col('RULE', 'rule'), ['ARGUMENTS', (r) => (r.argumentNames as string[] | undefined)?.join(',')]],
  'policy-audit': [col('AT', 'at'), col('ACTION', 'action'), ['BY', (r) => (r.actor as Row | undefined)?.name], col('REASON', 'reason'), ['REVISION', (r) => (r.after as Row | null)?.revision ?? r.revision]],
  tokens: [col('TOKEN ID', 'tokenId'), col('NAME', 'name'), col('SCOPE', 'scope'), col('CREATED', 'createdAt'), col('REVOKED', 'revokedAt'), col('LAST USED', 'lastUsedAt')],
};

function need(p: Parsed, index: number, what: string): string {
  const v = p.positional[index];
  if (!v) throw new UsageError(`missing ${what}`);
  return v;
}

const seg = (s: string) => encodeURIComponent(s);

/** Runs one command; returns what to print. */
async function run(client: Client, p: Parsed, json: boolean): Promise<string> {
  const [cmd, sub] = p.positional;
  const out = (value: unknown, columns?: Column[], rows?: Row[]) =>
    json || !columns ? `${jsonTerminalSafe(JSON.stringify(value, null, 2))}\n` : renderTable(rows ?? ((value as { items: Row[] }).items ?? []), columns);

  /** GETs a list; with --all follows nextCursor (at most 1000 pages). */
  const list = async (path: string, name: string) => {
    type Page = { items: Row[]; nextCursor?: string | null };
    const at = (cursor: string | undefined) => (cursor ? `${path}${path.includes('?') ? '&' : '?'}cursor=${seg(cursor)}` : path);
    const given = p.flags.get('cursor');
    const first = (await client.request('GET', at(typeof given === 'string' ? given : undefined))) as Page;
    const items = [...first.items];
    let next = first.nextCursor ?? null;
    for (let i = 0; p.flags.get('all') === true && next && i < 1000; i++) {
      const page = (await client.request('GET', at(next))) as Page;
      items.push(...page.items);
      next = page.nextCursor ?? null;
    }
    const value = { items, nextCursor: next };
    const text = out(value, COLUMNS[name]);
    if (json) return text;
    return `${text}${next ? `(more: --cursor ${terminalSafe(next)} or --all)\n` : ''}${freshnessFooter(client)}`;
  };

  switch (cmd) {
    case 'endpoints':
      return list(
        `/v1/endpoints${query(p, { os: 'os', hostname: 'hostname', user: 'user', client: 'client', 'server-name': 'server', severity: 'severity', 'last-seen-after': 'lastSeenAfter', 'last-seen-before': 'lastSeenBefore' })}`,
        'endpoints',
      );
    case 'endpoint': {
      const id = need(p, 1, 'endpoint ID');
      const d = (await client.request('GET', `/v1/endpoints/${seg(id)}${query(p, { events: 'events' })}`)) as Record<string, Row[]> & { endpoint: Row };
      if (json) return out(d);
      const e = d.endpoint;
      const t = (v: unknown): string => (v === null || v === undefined ? '' : terminalSafe(String(v)));
      const addr = (host: unknown, port: unknown): string | null => (host === null || host === undefined ? null : `${String(host)}:${String(port ?? '-')}`);
      const parts = [
        `endpoint ${t(e.endpointId)}  ${t(e.hostname)}  ${t(e.platform)} ${t(e.osName)} ${t(e.osRelease)}`.trimEnd(),
        `users: ${cell(e.users)}   first seen ${t(e.firstSeen)}   last seen ${t(e.lastSeen)}${e.duplicateOf ? `   DUPLICATE OF ${t(e.duplicateOf)}` : ''}`,
        '',
        'SERVERS',
        renderTable(d.servers ?? [], [col('NAME', 'name'), col('CLIENT', 'client'), col('TRANSPORT', 'transport'), ['RUNS', (r) => (r.url ?? [r.command, ...((r.args as string[]) ?? [])].join(' '))], col('FINGERPRINT', 'fingerprint')]),
        'FINDINGS',
        renderTable(d.findings ?? [], [col('SEVERITY', 'severity'), col('RULE', 'ruleId'), col('STATUS', 'status'), col('TITLE', 'title')]),
        'CLIENTS',
        renderTable(d.clients ?? [], [col('CLIENT', 'client'), col('USER', 'user'), col('SERVERS', 'serverCount')]),
        'PROCESSES',
        renderTable(d.processes ?? [], [col('PID', 'pid'), col('KIND', 'kind'), col('CLIENT', 'client'), col('USER', 'user'), col('MATCH', 'match'), col('COMMAND', 'cmd'), col('LAST SEEN', 'lastSeen')]),
        'SOCKETS',
        renderTable(d.sockets ?? [], [
          col('PID', 'pid'),
          col('PROCESS', 'processName'),
          col('KIND', 'kind'),
          col('PROTO', 'protocol'),
          ['LOCAL', (r) => addr(r.localAddress, r.localPort)],
          ['PEER', (r) => addr(r.peerAddress, r.peerPort)],
          ['ALL INTERFACES', (r) => (r.allInterfaces === true ? 'yes' : r.allInterfaces === false ? 'no' : null)],
          col('CLIENT', 'client'),
        ]),
        'CONFIG ERRORS',
        renderTable(d.configErrors ?? [], [col('CODE', 'code'), col('CLIENT', 'client'), col('PATH', 'path'), col('REASON', 'reason')]),
        'RECENT EVENTS',
        renderTable(d.recentEvents ?? [], COLUMNS.events!),
        freshnessFooter(client),
      ];
      return parts.join('\n');
    }
    case 'tools':
      if (sub === 'endpoints') return list(`/v1/tools/${seg(need(p, 2, 'tool NAME'))}/endpoints${query(p, { 'server-name': 'server', version: 'version', sha256: 'descriptionSha256' })}`, 'tool-endpoints');
      if (sub === 'endpoint') return list(`/v1/endpoints/${seg(need(p, 2, 'endpoint ID'))}/tools${query(p, {})}`, 'tool-endpoints');
      if (sub === 'divergence') return list(`/v1/tools/divergence${query(p, {})}`, 'tool-divergence');
      if (sub === 'definitions') return list(`/v1/tools/definitions${query(p, { fingerprint: 'server', name: 'name' })}`, 'tool-definitions');
      if (sub !== undefined) throw new UsageError(`unknown tools subcommand "${sub}" (endpoints, endpoint, divergence, definitions)`);
      return list(`/v1/tools${query(p, { name: 'name', 'server-name': 'server', capability: 'capability', 'min-endpoints': 'minEndpoints', 'max-endpoints': 'maxEndpoints', order: 'order' })}`, 'tools');
    case 'servers':
      return list(`/v1/servers${query(p, { name: 'name', package: 'package', transport: 'transport', client: 'client', risk: 'risk' })}`, 'servers');
    case 'server':
      return list(`/v1/servers/${seg(need(p, 1, 'server FINGERPRINT'))}/endpoints${query(p, {})}`, 'server');
    case 'findings':
      return list(`/v1/findings${query(p, { severity: 'severity', rule: 'rule', status: 'status', endpoint: 'endpoint' })}`, 'findings');
    case 'events':
      return list(`/v1/events${query(p, { since: 'since', until: 'until', endpoint: 'endpoint', type: 'type' })}`, 'events');
    case 'verify-history': {
      const r = (await client.request('GET', `/v1/admin/verify-history${query(p, { endpoint: 'endpoint', since: 'since' })}`)) as { checked: number; problems: Row[]; truncated: boolean };
      const text = json
        ? out(r)
        : `${r.problems.length > 0 ? renderTable(r.problems, [col('AGENT', 'agentId'), col('SEQ', 'seq'), col('ENDPOINT', 'endpointId'), col('RECEIVED', 'receivedAt'), col('PROBLEM', 'problem'), col('DETAIL', 'detail')]) : ''}` +
          `${r.checked} batches checked, ${r.problems.length}${r.truncated ? '+' : ''} do not verify\n`;
      if (r.problems.length > 0) throw new VerifyFailed(text);
      return text;
    }
    case 'agents': {
      if (sub === 'revoke' || sub === 'restore') {
        const a = (await client.request('POST', `/v1/agents/${seg(need(p, 2, 'agent ID'))}/${sub}`)) as Row;
        return out(a, COLUMNS.agents, [a]);
      }
      if (sub !== undefined && sub !== 'list') throw new UsageError(`unknown agents command ${sub}`);
      return list(`/v1/agents${p.flags.get('revoked') === true ? '?revoked=true' : ''}`, 'agents');
    }
    case 'secrets': {
      if (sub === 'create') {
        const secret = p.flags.get('secret');
        const r = (await client.request('POST', '/v1/enroll-secrets', { name: need(p, 2, 'secret NAME'), ...(typeof secret === 'string' ? { secret } : {}) })) as { name: string; secret: string };
        return json ? out(r) : `enroll secret ${terminalSafe(r.name)} created; it is shown only now:\n${terminalSafe(r.secret)}\n`;
      }
      if (sub === 'revoke') {
        await client.request('POST', `/v1/enroll-secrets/${seg(need(p, 2, 'secret NAME'))}/revoke`);
        return json ? out({ ok: true }) : `enroll secret ${terminalSafe(p.positional[2] ?? '')} revoked\n`;
      }
      if (sub !== undefined && sub !== 'list') throw new UsageError(`unknown secrets command ${sub}`);
      return list('/v1/enroll-secrets', 'secrets');
    }
    case 'tokens': {
      if (sub === 'create') {
        const scope = p.flags.get('scope');
        if (scope !== 'read' && scope !== 'admin') throw new UsageError('tokens create needs --scope read or --scope admin');
        const r = (await client.request('POST', '/v1/tokens', { name: need(p, 2, 'token NAME'), scope })) as { tokenId: string; token: string };
        return json ? out(r) : `token ${terminalSafe(r.tokenId)} (${scope}) created; it is shown only now:\n${terminalSafe(r.token)}\n`;
      }
      if (sub === 'revoke') {
        await client.request('POST', `/v1/tokens/${seg(need(p, 2, 'token ID'))}/revoke`);
        return json ? out({ ok: true }) : `token ${terminalSafe(p.positional[2] ?? '')} revoked\n`;
      }
      if (sub !== undefined && sub !== 'list') throw new UsageError(`unknown tokens command ${sub}`);
      return list('/v1/tokens', 'tokens');
    }
    case 'tool-calls':
      return list(`/v1/tool-calls${query(p, { endpoint: 'endpoint', since: 'since', until: 'until', 'server-name': 'server', tool: 'tool', decision: 'decision', client: 'client' })}`, 'tool-calls');
    case 'policy': {
      const reason = p.flags.get('reason');
      if (sub === 'set' || sub === 'clear') {
        if (typeof reason !== 'string' || reason === '') throw new UsageError(`policy ${sub} needs --reason R (kept in the audit trail)`);
      }
      if (sub === 'set') {
        const file = need(p, 2, 'policy FILE (ToolPolicy JSON)');
        let policy: unknown;
        try {
          policy = JSON.parse(readFileSync(file, 'utf8'));
        } catch (e) {
          throw new UsageError(`policy file ${file}: ${(e as Error).message}`);
        }
        const r = (await client.request('PUT', '/v1/admin/tool-policy', { policy, reason })) as Row;
        return json ? out(r) : `tool policy revision ${terminalSafe(String((r.policy as Row).revision))} set; agents apply it with their next batch ack\n`;
      }
      if (sub === 'clear') {
        const r = await client.request('POST', '/v1/admin/tool-policy/clear', { reason });
        return json ? out(r) : 'tool policy cleared; hooks fall back to audit mode with the agents\' next batch ack\n';
      }
      if (sub === 'audit') return out(await client.request('GET', `/v1/admin/tool-policy/audit${query(p, {})}`), COLUMNS['policy-audit']);
      if (sub !== undefined && sub !== 'show') throw new UsageError(`unknown policy command ${sub} (show, set, clear, audit)`);
      return out(await client.request('GET', '/v1/admin/tool-policy'));
    }
    case 'quarantine':
    case 'restore': {
      const reason = p.flags.get('reason');
      if (typeof reason !== 'string' || reason === '') throw new UsageError(`${cmd} needs --reason R (kept in the audit trail)`);
      const r = (await client.request('POST', '/v1/admin/containment', { endpointId: need(p, 1, 'ENDPOINT'), serverKey: need(p, 2, 'SERVERKEY'), action: cmd, reason })) as Row;
      return json ? out(r) : `${cmd} command ${terminalSafe(String(r.commandId))} queued for endpoint ${terminalSafe(String(r.endpointId))}; it is delivered with the agent's next batch ack (mcpwatch status shows the result)\n`;
    }
    case 'status': {
      const r = (await client.request('GET', `/v1/admin/containment${query(p, { endpoint: 'endpoint', 'server-key': 'serverKey' })}`)) as { items: Row[] };
      return out(r, COLUMNS.containment);
    }
    default:
      throw new UsageError(cmd ? `unknown command ${cmd}` : 'no command given');
  }
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: string[], io: Partial<AdminCliIo> = {}): Promise<number> {
  const env = io.env ?? process.env;
  const stdout = io.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => process.stderr.write(t));
  if (argv[0] === 'mcp') {
    // The analyst MCP server on stdio (mcp/analyst-mcp-server.ts); loaded only for this command.
    const { runAnalystMcpServer } = await import('./mcp/analyst-mcp-server.js');
    return runAnalystMcpServer(argv.slice(1), { env, stderr });
  }
  try {
    const p = parseArgs(argv);
    if (p.flags.get('help') === true) {
      stdout(USAGE);
      return 0;
    }
    const server = (p.flags.get('server') as string | undefined) ?? env.MCPWATCH_SERVER;
    const token = (p.flags.get('token') as string | undefined) ?? env.MCPWATCH_TOKEN;
    if (!server) throw new UsageError('no collector given: --server URL or MCPWATCH_SERVER');
    if (!token) throw new UsageError('no token given: MCPWATCH_TOKEN (or --token)');
    const caFile = (p.flags.get('ca') as string | undefined) ?? env.MCPWATCH_CA_FILE;
    let ca: string | undefined;
    if (caFile) {
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read --ca ${caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const client = makeClient(server, token, { ...(ca ? { ca } : {}), insecure: p.flags.get('insecure') === true });
    stdout(await run(client, p, p.flags.get('json') === true));
    return 0;
  } catch (e) {
    if (e instanceof VerifyFailed) {
      stdout(e.message);
      return 1;
    }
    if (e instanceof UsageError) {
      stderr(`mcpwatch: ${terminalSafe(e.message)}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ApiError) {
      stderr(`mcpwatch: ${e.status} ${terminalSafe(e.code)}: ${terminalSafe(e.message)}\n`);
      return 1;
    }
    stderr(`mcpwatch: cannot reach the collector: ${terminalSafe(String((e as Error)?.message ?? e))}\n`);
    return 1;
  }
}
