/**
 * The collector's configuration: ONE declarative table (name, type, default, env var, CLI flag,
 * description), parsed once and frozen.
 *
 * Sources, lowest to highest precedence: the table's defaults, an optional JSON config file
 * (`--config FILE` or MCPWATCH_CONFIG; keys are the table's names), environment variables, CLI
 * flags. A bad value anywhere makes `loadConfig` throw a CollectorError MCPW_ERR_CONFIG whose
 * message names the key (and the source) — the collector refuses to start rather than guess.
 *
 * Secrets (enroll secrets, admin token, database URL credentials) are marked `secret` in the table;
 * `redactedConfig()` is the only form that may be logged or printed.
 *
 * Adding a key: add one entry to CONFIG_TABLE with a parser from the `kinds` below. Its type in
 * `CollectorConfig` follows from the parser.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { tokenizeArgv } from '@mcpwatch/shared/argv';
import { STRICT_URL_POLICY, redactUrl } from '@mcpwatch/shared/protocol';
import { Errors } from './errors.js';

/** One named enroll secret (MCPWATCH_ENROLL_SECRET="name:secret,name2:secret2" or a bare secret). */
export interface NamedSecret {
  name: string;
  secret: string;
}

/** A listen address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** How the collector serves TLS. `auto`: `files` when cert and key files are set, else `embedded`. */
export type TlsMode = 'auto' | 'embedded' | 'files' | 'off';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** A value's parser: returns the typed value or throws an Error whose message explains the problem. */
type Parser<T> = (raw: unknown) => T;

interface KeySpec<T> {
  /** Default value (already parsed). */
  default: T;
  /** Environment variable(s) read for this key, first present wins. */
  env?: readonly string[];
  /** CLI flag (`--data-dir`). */
  flag?: string;
  description: string;
  /** Never logged or printed. */
  secret?: boolean;
  parse: Parser<T>;
}

function key<T>(spec: KeySpec<T>): KeySpec<T> {
  return spec;
}

// ---- value kinds --------------------------------------------------------------------------

const asString = (raw: unknown): string => {
  if (typeof raw !== 'string') throw new Error(`expected a string, got ${typeof raw}`);
  return raw;
};

const kinds = {
  string: (opts: { minLength?: number } = {}): Parser<string> => (raw) => {
    const s = asString(raw);
    if (opts.minLength !== undefined && s.length > 0 && s.length < opts.minLength) {
      throw new Error(`must be at least ${opts.minLength} characters`);
    }
    return s;
  },
  int: (min: number, max: number): Parser<number> => (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isInteger(n)) throw new Error(`expected an integer, got ${JSON.stringify(raw)}`);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  },
  number: (min: number, max: number): Parser<number> => (raw) => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new Error(`expected a number, got ${JSON.stringify(raw)}`);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  },
  oneOf: <T extends string>(values: readonly T[]): Parser<T> => (raw) => {
    const s = asString(raw);
    if (!(values as readonly string[]).includes(s)) throw new Error(`must be one of ${values.join(', ')}, got ${JSON.stringify(s)}`);
    return s as T;
  },
  /** A comma-separated list (or a JSON array in the file). */
  list: (item: RegExp): Parser<string[]> => (raw) => {
    const items = Array.isArray(raw) ? raw.map(asString) : asString(raw).split(',');
    const out = items.map((s) => s.trim()).filter((s) => s !== '');
    for (const s of out) if (!item.test(s)) throw new Error(`invalid list item ${JSON.stringify(s)}`);
    return out;
  },
  listen: (): Parser<ListenAddress> => (raw) => {
    const s = asString(raw).trim();
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
    if (!m) throw new Error(`expected HOST:PORT (IPv6 as [::1]:PORT), got ${JSON.stringify(s)}`);
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`port must be 0..65535, got ${port}`);
    return { host: (m[1] ?? m[2]) as string, port };
  },
  /** "name:secret,name2:secret2", or one bare secret (named "default"). Values never echoed in errors. */
  namedSecrets: (minSecretLength: number): Parser<NamedSecret[]> => (raw) => {
    const parts = Array.isArray(raw) ? raw.map(asString) : asString(raw).split(',');
    const out: NamedSecret[] = [];
    for (const [i, part] of parts.map((p) => p.trim()).filter((p) => p !== '').entries()) {
      const colon = part.indexOf(':');
      const named = colon > 0 && /^[A-Za-z0-9_.-]{1,64}$/.test(part.slice(0, colon));
      const name = named ? part.slice(0, colon) : parts.length === 1 ? 'default' : '';
      const secret = named ? part.slice(colon + 1) : part;
      if (name === '') throw new Error(`entry ${i + 1}: several secrets must each be written name:secret`);
      if (secret.length < minSecretLength) throw new Error(`entry ${i + 1} (${name}): secret must be at least ${minSecretLength} characters`);
      if (out.some((o) => o.name === name)) throw new Error(`entry ${i + 1}: duplicate name ${name}`);
      out.push({ name, secret });
    }
    return out;
  },
  /** Empty, or a string (trimmed) matching `pattern`; `problem` says what is wrong with one that does not. */
  emptyOr: (pattern: RegExp, problem: (s: string) => string): Parser<string> => (raw) => {
    const s = asString(raw).trim();
    if (s !== '' && !pattern.test(s)) throw new Error(problem(s));
    return s;
  },
  /** An http(s) URL, or empty. */
  url: (): Parser<string> => kinds.emptyOr(/^https?:\/\/[^\s/]+/, (s) => `expected an http(s) URL, got ${JSON.stringify(s)}`),
  /** A JSON object (a string of JSON from env/flags, or an object in the file). */
  jsonObject: (): Parser<Record<string, unknown>> => (raw) => {
    let v: unknown = raw;
    if (typeof raw === 'string') {
      try {
        v = JSON.parse(raw);
      } catch (e) {
        throw new Error(`not valid JSON: ${(e as Error).message}`);
      }
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('expected a JSON object');
    return v as Record<string, unknown>;
  },
};

// ---- the table ----------------------------------------------------------------------------

const MiB = 1024 * 1024;

/** Every configuration key of the collector. */
export const CONFIG_TABLE = {
  dataDir: key({
    default: 'mcpwatch-data',
    env: ['MCPWATCH_DATA_DIR'],
    flag: '--data-dir',
    description: 'Directory for the SQLite database, the CA and the embedded server certificate (created 0700).',
    parse: kinds.string({ minLength: 1 }),
  }),
  listen: key({
    default: { host: '127.0.0.1', port: 8443 } as ListenAddress,
    env: ['MCPWATCH_LISTEN'],
    flag: '--listen',
    description: 'HOST:PORT to listen on (port 0 picks a free port).',
    parse: kinds.listen(),
  }),
  queryPort: key({
    default: 0,
    env: ['MCPWATCH_QUERY_PORT'],
    flag: '--query-port',
    description:
      'A second port, on the listen host, serving only the read API (GET /v1/endpoints, /v1/servers, /v1/findings, /v1/events, /v1/tools...) from a worker thread with its own read-only database connection, so queries never wait behind ingest and projection on the main event loop; same TLS, tokens and listener timeouts as the main port. 0: off.',
    parse: kinds.int(0, 65535),
  }),
  databaseUrl: key({
    default: '',
    env: ['DATABASE_URL', 'MCPWATCH_DATABASE_URL'],
    flag: '--database-url',
    description: 'postgres://... to use PostgreSQL; empty for SQLite in the data dir.',
    secret: true,
    parse: kinds.emptyOr(/^postgres(ql)?:\/\//, () => 'must start with postgres:// or postgresql:// (or be empty for SQLite)'),
  }),
  enrollSecrets: key({
    default: [] as NamedSecret[],
    env: ['MCPWATCH_ENROLL_SECRET', 'MCPWATCH_ENROLL_SECRETS'],
    description: 'Enroll secrets agents present: "name:secret,name2:secret2" or one bare secret. Stored hashed; revocable by name.',
    secret: true,
    parse: kinds.namedSecrets(8),
  }),
  adminToken: key({
    default: '',
    env: ['MCPWATCH_ADMIN_TOKEN'],
    description: 'Bootstrap admin bearer token (scope admin) for the query API and the mcpwatch CLI. Stored hashed.',
    secret: true,
    parse: kinds.string({ minLength: 8 }),
  }),
  tls: key({
    default: 'auto' as TlsMode,
    env: ['MCPWATCH_TLS'],
    flag: '--tls',
    description: 'auto | embedded (self-signed server cert from the CA) | files (tlsCertFile/tlsKeyFile) | off (plain HTTP; loopback only).',
    parse: kinds.oneOf<TlsMode>(['auto', 'embedded', 'files', 'off']),
  }),
  tlsCertFile: key({
    default: '',
    env: ['MCPWATCH_TLS_CERT_FILE'],
    flag: '--tls-cert',
    description: 'PEM server certificate (chain) for tls=files.',
    parse: kinds.string(),
  }),
  tlsKeyFile: key({
    default: '',
    env: ['MCPWATCH_TLS_KEY_FILE'],
    flag: '--tls-key',
    description: 'PEM private key for tls=files.',
    parse: kinds.string(),
  }),
  serverNames: key({
    default: ['localhost', '127.0.0.1', '::1'],
    env: ['MCPWATCH_SERVER_NAMES'],
    description: 'DNS names / IPs in the embedded server certificate (comma-separated).',
    parse: kinds.list(/^[A-Za-z0-9.:*-]{1,253}$/),
  }),
  caCertFile: key({
    default: '',
    env: ['MCPWATCH_CA_CERT_FILE'],
    description: 'PEM CA certificate to issue agent certificates with; empty: a CA created in dataDir/ca on first start.',
    parse: kinds.string(),
  }),
  caKeyFile: key({
    default: '',
    env: ['MCPWATCH_CA_KEY_FILE'],
    description: 'PEM CA private key (with caCertFile).',
    parse: kinds.string(),
  }),
  agentCertValidityDays: key({
    default: 365,
    env: ['MCPWATCH_AGENT_CERT_DAYS'],
    description: 'Validity of issued agent certificates, in days.',
    parse: kinds.int(1, 3650),
  }),
  timestampWindowS: key({
    default: 300,
    env: ['MCPWATCH_TIMESTAMP_WINDOW_S'],
    description: 'A batch whose signed timestamp is further than this from the collector clock is rejected (401).',
    parse: kinds.int(5, 86400),
  }),
  maxBodyBytes: key({
    default: 5 * MiB,
    env: ['MCPWATCH_MAX_BODY_BYTES'],
    description: 'Largest accepted (compressed) batch body; larger: 413.',
    parse: kinds.int(1024, 256 * MiB),
  }),
  maxInflatedBytes: key({
    default: 32 * MiB,
    env: ['MCPWATCH_MAX_INFLATED_BYTES'],
    description: 'Largest batch after gunzip; a body that inflates past it is refused as a zip bomb (413).',
    parse: kinds.int(1024, 1024 * MiB),
  }),
  rateLimitPerAgentPerS: key({
    default: 10,
    env: ['MCPWATCH_RATE_LIMIT_PER_AGENT_PER_S'],
    description: 'Batches per second one agent may send (token bucket refill); over it: 429 with Retry-After. 0 disables.',
    parse: kinds.number(0, 1e6),
  }),
  rateLimitBurst: key({
    default: 50,
    env: ['MCPWATCH_RATE_LIMIT_BURST'],
    description: 'Token bucket size of the per-agent rate limit (batches).',
    parse: kinds.int(1, 1e6),
  }),
  agentCacheTtlMs: key({
    default: 5000,
    env: ['MCPWATCH_AGENT_CACHE_TTL_MS'],
    description:
      'How long an agent row and its parsed public key are cached; bounds how late a revocation made by another collector process takes effect. SQLite: rows stay cached while no other process writes to the database (checked this often); revocations made through this collector take effect at once on either engine.',
    parse: kinds.int(0, 3600_000),
  }),
  agentCacheMax: key({
    default: 200_000,
    env: ['MCPWATCH_AGENT_CACHE_MAX'],
    description: 'Most agents held in the key cache (least recently used evicted).',
    parse: kinds.int(1, 10_000_000),
  }),
  sinks: key({
    default: [] as string[],
    env: ['MCPWATCH_SINKS'],
    description:
      'Sinks each accepted event is enqueued for in the outbox (comma-separated: file, kinesis, securityhub, webhook). Empty: kinesis when kinesisStream is set, securityhub when securityHub=on, else file; plus webhook when webhookUrl is set.',
    parse: kinds.list(/^(file|kinesis|securityhub|webhook)$/),
  }),
  webhookUrl: key({
    default: '',
    env: ['MCPWATCH_WEBHOOK_URL'],
    description: 'Incoming-webhook URL (Slack, or any JSON receiver with webhookFormat=json) for findings at or above webhookMinSeverity and containment results; setting it turns the webhook sink on.',
    secret: true,
    parse: kinds.url(),
  }),
  webhookFormat: key({
    default: 'slack' as 'slack' | 'json',
    env: ['MCPWATCH_WEBHOOK_FORMAT'],
    description: 'slack: Slack incoming-webhook JSON ({text, blocks}); json: a generic document ({source, sentAt, notifications}) for Teams workflows and others.',
    parse: kinds.oneOf<'slack' | 'json'>(['slack', 'json']),
  }),
  webhookMinSeverity: key({
    default: 'high' as 'info' | 'low' | 'medium' | 'high' | 'critical',
    env: ['MCPWATCH_WEBHOOK_MIN_SEVERITY'],
    description: 'Lowest finding severity the webhook sink posts (containment results are always posted).',
    parse: kinds.oneOf<'info' | 'low' | 'medium' | 'high' | 'critical'>(['info', 'low', 'medium', 'high', 'critical']),
  }),
  webhookRatePerS: key({
    default: 1,
    env: ['MCPWATCH_WEBHOOK_RATE_PER_S'],
    description: 'Posts per second to the webhook (burst 3); Slack allows about one a second.',
    parse: kinds.number(0.01, 1000),
  }),
  webhookSecret: key({
    default: '',
    env: ['MCPWATCH_WEBHOOK_SECRET'],
    description:
      'Shared secret that signs every webhook delivery (HMAC-SHA256 over "<timestamp>.<body>" in x-mcpwatch-webhook-signature: t=<unix seconds>,v1=<hex>); receivers verify it and refuse old timestamps. Empty: deliveries are not signed (Slack incoming webhooks do not check signatures).',
    secret: true,
    parse: kinds.string({ minLength: 16 }),
  }),
  autoContainment: key({
    default: [] as string[],
    env: ['MCPWATCH_AUTO_CONTAINMENT'],
    description:
      'Automated containment, opt-in: quarantine a server when a finding of rule RULE at severity SEVERITY or above is raised for it ("RULE>=SEVERITY", comma-separated; RULE * for any rule). Empty: off.',
    parse: kinds.list(/^[A-Za-z0-9_.:*-]{1,64}>=(info|low|medium|high|critical)$/),
  }),
  autoContainmentDryRun: key({
    default: 'off' as 'on' | 'off',
    env: ['MCPWATCH_AUTO_CONTAINMENT_DRY_RUN'],
    description: 'on: auto-containment only records what it would quarantine (status dry-run in the audit trail); no command is sent.',
    parse: kinds.oneOf(['on', 'off'] as const),
  }),
  commandWaitHoldMs: key({
    default: 25_000,
    env: ['MCPWATCH_COMMAND_WAIT_HOLD_MS'],
    description:
      'Longest the collector holds an agent\'s POST /v1/commands/wait (the containment long-poll) before answering empty; also kept under httpRequestTimeoutMs and httpIdleTimeoutMs.',
    parse: kinds.int(0, 600_000),
  }),
  commandWaitMaxHeld: key({
    default: 4096,
    env: ['MCPWATCH_COMMAND_WAIT_MAX_HELD'],
    description: 'Most command waits held at once on this collector (one per agent); more are refused with 503 and Retry-After.',
    parse: kinds.int(0, 1_000_000),
  }),
  // ---- outlets (outbox drainers and sinks) ----
  kinesisStream: key({
    default: '',
    env: ['MCPWATCH_KINESIS_STREAM'],
    description: 'Kinesis data stream name; setting it turns the Kinesis sink on.',
    parse: kinds.emptyOr(/^[a-zA-Z0-9_.-]{1,128}$/, () => 'must be 1-128 characters of a-z A-Z 0-9 _ . -'),
  }),
  kinesisEndpoint: key({
    default: '',
    env: ['MCPWATCH_KINESIS_ENDPOINT'],
    description: 'Endpoint override for Kinesis (e.g. http://127.0.0.1:4567 for kinesalite); empty: the AWS endpoint of awsRegion.',
    parse: kinds.url(),
  }),
  securityHub: key({
    default: 'off' as 'on' | 'off',
    env: ['MCPWATCH_SECURITYHUB'],
    description: 'on: publish findings to AWS Security Hub (BatchImportFindings, ASFF).',
    parse: kinds.oneOf<'on' | 'off'>(['on', 'off']),
  }),
  securityHubEndpoint: key({
    default: '',
    env: ['MCPWATCH_SECURITYHUB_ENDPOINT'],
    description: 'Endpoint override for Security Hub; empty: the AWS endpoint of awsRegion.',
    parse: kinds.url(),
  }),
  awsAccountId: key({
    default: '',
    env: ['MCPWATCH_AWS_ACCOUNT_ID'],
    description: 'AWS account id for ASFF findings (AwsAccountId, ProductArn); empty: asked from STS GetCallerIdentity at start.',
    parse: kinds.emptyOr(/^\d{12}$/, () => 'must be 12 digits'),
  }),
  awsRegion: key({
    default: '',
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    description: 'AWS region of the Kinesis stream and Security Hub (credentials come from the default AWS provider chain).',
    parse: kinds.emptyOr(/^[a-z]{2}(-[a-z]+)+-\d+$/, (s) => `not an AWS region: ${JSON.stringify(s)}`),
  }),
  ocsf: key({
    default: 'off' as 'on' | 'off',
    env: ['MCPWATCH_OCSF'],
    description: 'on: Kinesis records (and the file sink) carry OCSF renderings of events instead of the mcpwatch envelope.',
    parse: kinds.oneOf<'on' | 'off'>(['on', 'off']),
  }),
  fileSinkDir: key({
    default: '',
    env: ['MCPWATCH_FILE_SINK_DIR'],
    description: 'Directory of the file sink (kinesis.jsonl, securityhub.jsonl); empty: DATA_DIR/outlets.',
    parse: kinds.string(),
  }),
  fileSinkMaxBytes: key({
    default: 64 * MiB,
    env: ['MCPWATCH_FILE_SINK_MAX_BYTES'],
    description: 'Size at which a file sink file is rotated (5 rotated files are kept per stream).',
    parse: kinds.int(4096, 64 * 1024 * MiB),
  }),
  outboxBatchSize: key({
    default: 500,
    env: ['MCPWATCH_OUTBOX_BATCH'],
    description: 'Outbox rows a drainer claims and sends at a time.',
    parse: kinds.int(1, 10_000),
  }),
  outboxLeaseMs: key({
    default: 60_000,
    env: ['MCPWATCH_OUTBOX_LEASE_MS'],
    description: 'How long claimed outbox rows stay reserved for one drainer; after it (e.g. the collector died) another takes them.',
    parse: kinds.int(1000, 3600_000),
  }),
  outboxPollMs: key({
    default: 250,
    env: ['MCPWATCH_OUTBOX_POLL_MS'],
    description: 'How often an idle drainer looks for new outbox rows.',
    parse: kinds.int(10, 60_000),
  }),
  sinkSendDeadlineMs: key({
    default: 20_000,
    env: ['MCPWATCH_SINK_SEND_DEADLINE_MS'],
    description: 'How long one send keeps retrying failed records before handing the rows back to the outbox (must be below outboxLeaseMs).',
    parse: kinds.int(100, 600_000),
  }),
  agentSettings: key({
    default: {} as Record<string, unknown>,
    env: ['MCPWATCH_AGENT_SETTINGS'],
    description: 'Settings (shared AgentSettings schema) served to agents at enrollment, as JSON.',
    parse: kinds.jsonObject(),
  }),
  eventRetentionDays: key({
    default: 30,
    env: ['MCPWATCH_EVENT_RETENTION_DAYS'],
    description: 'Event history older than this is pruned (hourly). 0 keeps everything.',
    parse: kinds.int(0, 36500),
  }),
  shutdownTimeoutMs: key({
    default: 10_000,
    env: ['MCPWATCH_SHUTDOWN_TIMEOUT_MS'],
    description: 'On SIGTERM/SIGINT, how long in-flight requests may take before the process exits anyway.',
    parse: kinds.int(100, 600_000),
  }),
  // ---- listeners and abuse (every listener: http and https) ----
  httpIdleTimeoutMs: key({
    default: 120_000,
    env: ['MCPWATCH_HTTP_IDLE_TIMEOUT_MS'],
    description: 'A connection with no bytes in either direction for this long is closed (idle sockets are reaped).',
    parse: kinds.int(100, 3600_000),
  }),
  httpKeepAliveTimeoutMs: key({
    default: 75_000,
    env: ['MCPWATCH_HTTP_KEEPALIVE_TIMEOUT_MS'],
    description: 'How long a keep-alive connection may wait for its next request (keep above a load balancer\'s idle timeout).',
    parse: kinds.int(100, 3600_000),
  }),
  httpHeadersTimeoutMs: key({
    default: 20_000,
    env: ['MCPWATCH_HTTP_HEADERS_TIMEOUT_MS'],
    description: 'Time a client has to send a request\'s complete headers (slowloris bound).',
    parse: kinds.int(100, 600_000),
  }),
  httpRequestTimeoutMs: key({
    default: 60_000,
    env: ['MCPWATCH_HTTP_REQUEST_TIMEOUT_MS'],
    description: 'Time a client has to send a whole request, headers and body.',
    parse: kinds.int(100, 3600_000),
  }),
  httpMaxConnections: key({
    default: 16_384,
    env: ['MCPWATCH_HTTP_MAX_CONNECTIONS'],
    description: 'Most concurrent connections on the listener; more are refused at accept (keep below the descriptor limit).',
    parse: kinds.int(1, 10_000_000),
  }),
  httpMaxRequestsPerSocket: key({
    default: 0,
    env: ['MCPWATCH_HTTP_MAX_REQUESTS_PER_SOCKET'],
    description: 'Requests served on one keep-alive connection before it is closed; 0: no limit.',
    parse: kinds.int(0, 1e9),
  }),
  trustProxy: key({
    default: [] as string[],
    env: ['MCPWATCH_TRUST_PROXY'],
    description:
      'Addresses or CIDRs of load balancers / proxies whose X-Forwarded-For names the client (comma-separated); empty: the socket peer is the client. Per-source throttling keys on it.',
    parse: kinds.list(/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/),
  }),
  authFailureLimit: key({
    default: 20,
    env: ['MCPWATCH_AUTH_FAILURE_LIMIT'],
    description: 'Failed authentications (wrong API token or enroll secret) one source IP may make per authFailureWindowS; beyond: 429 + Retry-After on those routes.',
    parse: kinds.int(1, 1e9),
  }),
  unknownAgentLimit: key({
    default: 600,
    env: ['MCPWATCH_UNKNOWN_AGENT_LIMIT'],
    description: 'Batches from unknown agents (or with bad signatures) one source IP may send per authFailureWindowS; beyond: 429 for those (known agents are never held back).',
    parse: kinds.int(1, 1e9),
  }),
  authFailureWindowS: key({
    default: 60,
    env: ['MCPWATCH_AUTH_FAILURE_WINDOW_S'],
    description: 'Window of authFailureLimit and unknownAgentLimit, seconds.',
    parse: kinds.int(1, 86_400),
  }),
  enrollLimitPerSecret: key({
    default: 1200,
    env: ['MCPWATCH_ENROLL_LIMIT_PER_SECRET'],
    description: 'Enrollments one enroll secret may make per enrollWindowS (10,000 laptops re-enrolling: ~9 minutes); beyond: 429 + Retry-After.',
    parse: kinds.int(1, 1e9),
  }),
  enrollLimitGlobal: key({
    default: 2400,
    env: ['MCPWATCH_ENROLL_LIMIT_GLOBAL'],
    description: 'Enrollments this collector makes per enrollWindowS, all secrets together; beyond: 429 + Retry-After.',
    parse: kinds.int(1, 1e9),
  }),
  enrollWindowS: key({
    default: 60,
    env: ['MCPWATCH_ENROLL_WINDOW_S'],
    description: 'Window of the enrollment limits, seconds.',
    parse: kinds.int(1, 86_400),
  }),
  enrollMaxAgentsPerKey: key({
    default: 10,
    env: ['MCPWATCH_ENROLL_MAX_AGENTS_PER_KEY'],
    description: 'Agent ids one public key may be enrolled under (counted per process; agents make a new key per enrollment); beyond: 409 MCPW_ERR_KEY_REUSED.',
    parse: kinds.int(1, 1e6),
  }),
  pressureMaxEventLoopDelayMs: key({
    default: 2000,
    env: ['MCPWATCH_PRESSURE_MAX_EVENT_LOOP_DELAY_MS'],
    description: 'Mean event-loop delay over which, for 3 sample intervals in a row, requests (except /healthz, /readyz, /metrics) get 503 + Retry-After; 0 disables.',
    parse: kinds.int(0, 600_000),
  }),
  pressureMaxHeapUsedBytes: key({
    default: 0,
    env: ['MCPWATCH_PRESSURE_MAX_HEAP_USED_BYTES'],
    description: 'Heap use over which requests get 503 + Retry-After; 0: 90% of the V8 heap limit.',
    parse: kinds.int(0, Number.MAX_SAFE_INTEGER),
  }),
  pressureSampleIntervalMs: key({
    default: 1000,
    env: ['MCPWATCH_PRESSURE_SAMPLE_INTERVAL_MS'],
    description: 'How often event-loop delay and heap use are sampled (at least 100 ms: a shorter window may hold no delay sample, which reads as overload).',
    parse: kinds.int(100, 60_000),
  }),
  logLevel: key({
    default: 'info' as LogLevel,
    env: ['MCPWATCH_LOG_LEVEL'],
    flag: '--log-level',
    description: 'pino log level.',
    parse: kinds.oneOf<LogLevel>(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
} as const;

export type ConfigKey = keyof typeof CONFIG_TABLE;

/** The parsed, frozen configuration. */
export type CollectorConfig = {
  readonly [K in ConfigKey]: Readonly<ReturnType<(typeof CONFIG_TABLE)[K]['parse']>>;
};

/** Where the configuration comes from; every field optional (tests pass only what they need). */
export interface ConfigSources {
  /** CLI arguments (flags of the table, plus `--config FILE`). */
  argv?: readonly string[];
  /** Environment (process.env in the binary). */
  env?: Record<string, string | undefined>;
  /** Values by key name (tests, embedding), applied above env and below flags. */
  overrides?: Partial<Record<ConfigKey, unknown>>;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
}

const FLAG_TO_KEY = new Map<string, ConfigKey>(
  (Object.keys(CONFIG_TABLE) as ConfigKey[]).flatMap((k) => {
    const flag = (CONFIG_TABLE[k] as KeySpec<unknown>).flag;
    return flag ? [[flag, k] as [string, ConfigKey]] : [];
  }),
);

function configError(keyName: string, source: string, problem: string, cause?: unknown): Error {
  return Errors.config(`invalid configuration: ${keyName} (from ${source}): ${problem}`, cause !== undefined ? { cause } : undefined);
}

/** Splits argv into table flags (by key) and `--config`. Unknown flags are errors. Read with the
 * shared tokenizer (Node's util.parseArgs): every table flag and --config takes a value. */
function parseArgv(argv: readonly string[]): { values: Map<ConfigKey, string>; configFile?: string } {
  const values = new Map<ConfigKey, string>();
  let configFile: string | undefined;
  const valueOptions = [...FLAG_TO_KEY.keys(), '--config'].map((f) => f.slice(2));
  for (const t of tokenizeArgv(argv, valueOptions)) {
    const written = argv[t.index] as string;
    if (t.kind !== 'option' || !t.rawName.startsWith('--')) throw configError(written.split('=')[0] as string, 'command line', 'unknown option (see --help)');
    const flag = t.rawName;
    const k = flag === '--config' ? undefined : FLAG_TO_KEY.get(flag);
    if (flag !== '--config' && !k) throw configError(flag, 'command line', 'unknown option (see --help)');
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw configError(flag, 'command line', 'needs a value');
    if (k) values.set(k, t.value);
    else configFile = t.value;
  }
  return configFile !== undefined ? { values, configFile } : { values };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError('config', path, `cannot read config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw configError('config', path, `not valid JSON: ${(e as Error).message}`, e);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw configError('config', path, 'must be a JSON object');
  for (const k of Object.keys(doc)) {
    if (!(k in CONFIG_TABLE)) throw configError(k, path, `unknown key (known: ${Object.keys(CONFIG_TABLE).join(', ')})`);
  }
  return doc as Record<string, unknown>;
}

/**
 * Parses the configuration from defaults, file, env, overrides and flags, validates it as a whole,
 * and returns it frozen. Throws CollectorError MCPW_ERR_CONFIG naming the key on the first bad value.
 */
export function loadConfig(sources: ConfigSources = {}): CollectorConfig {
  const env = sources.env ?? {};
  const cwd = sources.cwd ?? process.cwd();
  const cli = parseArgv(sources.argv ?? []);
  const configFile = cli.configFile ?? env.MCPWATCH_CONFIG;
  const file = configFile ? readConfigFile(resolve(cwd, configFile)) : {};

  const out: Record<string, unknown> = {};
  for (const k of Object.keys(CONFIG_TABLE) as ConfigKey[]) {
    const spec = CONFIG_TABLE[k] as KeySpec<unknown>;
    let raw: unknown;
    let source = 'default';
    if (k in file) {
      raw = file[k];
      source = `config file ${configFile}`;
    }
    for (const name of spec.env ?? []) {
      const v = env[name];
      if (v !== undefined && v !== '') {
        raw = v;
        source = `env ${name}`;
        break;
      }
    }
    if (sources.overrides && k in sources.overrides) {
      raw = sources.overrides[k];
      source = 'overrides';
    }
    if (cli.values.has(k)) {
      raw = cli.values.get(k);
      source = `flag ${spec.flag}`;
    }
    if (source === 'default') {
      out[k] = spec.default;
      continue;
    }
    try {
      out[k] = spec.parse(raw);
    } catch (e) {
      throw configError(k, source, (e as Error).message, e);
    }
  }
  return finish(out as Mutable<CollectorConfig>, cwd);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Cross-key checks and path resolution; then deep-freeze. */
function finish(c: Mutable<CollectorConfig>, cwd: string): CollectorConfig {
  const abs = (p: string): string => (p === '' || isAbsolute(p) ? p : resolve(cwd, p));
  c.dataDir = abs(c.dataDir);
  c.tlsCertFile = abs(c.tlsCertFile);
  c.tlsKeyFile = abs(c.tlsKeyFile);
  c.caCertFile = abs(c.caCertFile);
  c.caKeyFile = abs(c.caKeyFile);
  if (c.tls === 'auto') c.tls = c.tlsCertFile !== '' && c.tlsKeyFile !== '' ? 'files' : 'embedded';
  if (c.tls === 'files' && (c.tlsCertFile === '' || c.tlsKeyFile === '')) {
    throw configError('tlsCertFile', 'tls=files', 'tls=files needs both tlsCertFile and tlsKeyFile');
  }
  if (c.tls === 'off' && !LOOPBACK.test(c.listen.host)) {
    throw configError('tls', 'tls=off', `plain HTTP is only allowed on a loopback address, not ${c.listen.host}`);
  }
  if (c.queryPort !== 0 && c.queryPort === c.listen.port) {
    throw configError('queryPort', 'queryPort', `must differ from the main listener's port ${c.listen.port}`);
  }
  if ((c.caCertFile === '') !== (c.caKeyFile === '')) {
    throw configError('caCertFile', 'caCertFile/caKeyFile', 'set both caCertFile and caKeyFile, or neither');
  }
  if (c.maxInflatedBytes < c.maxBodyBytes) {
    throw configError('maxInflatedBytes', 'maxInflatedBytes', 'must be at least maxBodyBytes');
  }
  finishOutlets(c, abs);
  return deepFreeze(c) as CollectorConfig;
}

/** Outlets: derive the sinks when not listed, and check each listed sink has what it needs. */
function finishOutlets(c: Mutable<CollectorConfig>, abs: (p: string) => string): void {
  c.fileSinkDir = c.fileSinkDir === '' ? resolve(c.dataDir, 'outlets') : abs(c.fileSinkDir);
  if (c.sinks.length === 0) {
    const aws = [...(c.kinesisStream !== '' ? ['kinesis'] : []), ...(c.securityHub === 'on' ? ['securityhub'] : [])];
    c.sinks = [...(aws.length > 0 ? aws : ['file']), ...(c.webhookUrl !== '' ? ['webhook'] : [])];
  }
  if (c.sinks.includes('webhook') && c.webhookUrl === '') throw configError('webhookUrl', 'sinks', 'the webhook sink needs MCPWATCH_WEBHOOK_URL');
  if (c.sinks.includes('kinesis') && c.kinesisStream === '') throw configError('kinesisStream', 'sinks', 'the kinesis sink needs MCPWATCH_KINESIS_STREAM');
  if ((c.sinks.includes('kinesis') || c.sinks.includes('securityhub')) && c.awsRegion === '') {
    throw configError('awsRegion', 'sinks', 'the kinesis and securityhub sinks need a region (AWS_REGION)');
  }
  if (c.outboxLeaseMs <= c.sinkSendDeadlineMs) {
    throw configError('outboxLeaseMs', 'outboxLeaseMs', `must be longer than sinkSendDeadlineMs (${c.sinkSendDeadlineMs} ms), or a slow send loses its lease`);
  }
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/** The configuration with every secret replaced, and credentials stripped from the database URL. */
export function redactedConfig(c: CollectorConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(CONFIG_TABLE) as ConfigKey[]) {
    const spec = CONFIG_TABLE[k] as KeySpec<unknown>;
    const v = c[k];
    if (k === 'databaseUrl') out[k] = redactUrl(c.databaseUrl, STRICT_URL_POLICY);
    else if (k === 'enrollSecrets') out[k] = c.enrollSecrets.map((s) => `${s.name}:[REDACTED]`);
    else if (spec.secret) out[k] = v === '' ? '' : '[REDACTED]';
    else out[k] = v;
  }
  return out;
}

/** `--help` text generated from the table. */
export function configHelp(): string {
  const lines = ['Options (flag / env var / config-file key), highest precedence first: flag, env, --config FILE, default.', ''];
  for (const k of Object.keys(CONFIG_TABLE) as ConfigKey[]) {
    const spec = CONFIG_TABLE[k] as KeySpec<unknown>;
    const where = [spec.flag, ...(spec.env ?? [])].filter(Boolean).join(' / ');
    const dflt = spec.secret ? '' : ` (default ${JSON.stringify(spec.default)})`;
    lines.push(`  ${k}  [${where}]${dflt}`, `      ${spec.description}`);
  }
  lines.push('  --config FILE  [MCPWATCH_CONFIG]', '      JSON file with any of the keys above.');
  return lines.join('\n');
}
