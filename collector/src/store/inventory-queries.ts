/**
 * Read queries over the current inventory and the event history, shared by both engines.
 * Every filter value reaches the database as a bound parameter; LIKE patterns escape % _ and \,
 * so SQL metacharacters in a filter only ever match themselves.
 * Pagination: opaque cursors (base64url JSON). A cursor is checked fully before it reaches a query
 * (alphabet, length, JSON, shape, and every value's type and range: offsets are safe integers up to
 * MAX_CURSOR_OFFSET, ids are bounded printable strings, event ids ULIDs); anything else, tampered
 * or garbage, is MCPW_ERR_MALFORMED (400), never a database error.
 * Page size: `limit` 1..MAX_PAGE_SIZE, and pages carrying stored JSON (events, findings) also stop
 * early once about MAX_PAGE_BYTES of it (characters, plus ROW_OVERHEAD_BYTES a row) are in the
 * page (at least one row per page), returning a cursor: a page of big events never holds the event
 * loop for long or grows a reply without bound. An endpoint's detail bounds each of its lists the
 * same way (DETAIL_MAX_ROWS rows, about MAX_PAGE_BYTES each) and names the lists cut short in
 * `truncated`.
 */
import { sql, type Expression, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { SEVERITIES, severityRank, type Severity } from '@mcpwatch/shared';
import { Errors } from '../errors.js';
import type { Database } from './db-schema.js';
import type { EventReader } from './event-reader.js';
import { canonicalTime } from './projection.js';
import type {
  EndpointDetail,
  EndpointFilter,
  EndpointSummary,
  EventFilter,
  FindingFilter,
  FindingView,
  Page,
  PageRequest,
  ServerEndpoint,
  ServerFilter,
  ServerGroup,
  StoredEvent,
} from './types.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The 10-character time prefix of a ULID made at `ms` (Crockford base32, 48-bit milliseconds).
 * Every event id made at or after `ms` sorts at or after this string, so a time bound on events is
 * an id range on the primary key.
 */
export function ulidTimePrefix(ms: number): string {
  let t = Math.max(0, Math.min(Math.floor(ms), 2 ** 48 - 1));
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
/** Bytes of stored JSON (event data, finding records) one page or one endpoint detail carries at most. */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;
/** Rows one list of an endpoint's detail carries at most. */
export const DETAIL_MAX_ROWS = 10_000;
/** Largest offset a cursor may carry (int4: both engines bind it as an integer). */
export const MAX_CURSOR_OFFSET = 2 ** 31 - 1;
/** Longest cursor accepted (the ones made here are far shorter). */
const MAX_CURSOR_CHARS = 1024;
const CURSOR_ALPHABET = /^[A-Za-z0-9_-]+$/;

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) throw Errors.malformed('limit must be an integer from 1 to 1000');
  return Math.min(limit, MAX_PAGE_SIZE);
}

/** Encodes a cursor value as an opaque string. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const BAD_CURSOR = 'cursor is not valid: pass back a nextCursor unchanged';

/**
 * Decodes a cursor made by encodeCursor, checking its shape with `check`; anything else (not a
 * string, wrong alphabet, too long, not JSON, wrong shape or range) is MCPW_ERR_MALFORMED.
 */
export function decodeCursor<T>(cursor: unknown, check: (v: unknown) => v is T): T {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !CURSOR_ALPHABET.test(cursor)) {
    throw Errors.malformed(BAD_CURSOR);
  }
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (e) {
    throw Errors.malformed(BAD_CURSOR, { cause: e });
  }
  if (!check(v)) throw Errors.malformed(BAD_CURSOR);
  return v;
}

/** `{ o }`: a safe integer offset in 0..MAX_CURSOR_OFFSET, and nothing else. */
const isOffset = (v: unknown): v is { o: number } => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  const o = (v as { o?: unknown }).o;
  return keys.length === 1 && keys[0] === 'o' && Number.isSafeInteger(o) && (o as number) >= 0 && (o as number) <= MAX_CURSOR_OFFSET;
};
/** An id as stored (endpoint id, server key): 1..128 characters, well-formed, no control characters. */
// eslint-disable-next-line no-control-regex
const NOT_IN_ID = /[\u0000-\u001f\u007f-\u009f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 128 && !NOT_IN_ID.test(v);
const isEventId = (v: unknown): v is string => typeof v === 'string' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(v);
const isKeyPair = (v: unknown): v is [string, string] => Array.isArray(v) && v.length === 2 && isId(v[0]) && isId(v[1]);

/** Most distinct (name, client) pairs of one fingerprint a listServers page reads (names are cut at 20 per group). */
const NAME_PAIRS_MAX = 100;

/** What a row adds to a reply besides its stored JSON (ids, times, names: each bounded). */
const ROW_OVERHEAD_BYTES = 1024;

/**
 * How many of `sizes` (characters of stored JSON per row, in page order) fit MAX_PAGE_BYTES with
 * ROW_OVERHEAD_BYTES each: at least 1 when any.
 */
function withinBudget(sizes: readonly number[], maxBytes: number = MAX_PAGE_BYTES): number {
  let bytes = 0;
  for (let i = 0; i < sizes.length; i++) {
    bytes += sizes[i]! + ROW_OVERHEAD_BYTES;
    if (bytes > maxBytes) return Math.max(1, i);
  }
  return sizes.length;
}

function time(value: string, name: string): string {
  const t = canonicalTime(value, '');
  if (!t) throw Errors.malformed(`${name} is not a valid ISO-8601 time`);
  return t;
}

function rank(s: Severity, name: string): number {
  const r = severityRank(s);
  if (r < 0) throw Errors.malformed(`${name} must be one of ${SEVERITIES.join(', ')}`);
  return r;
}

/** `lower(column) LIKE %value%` with the value's wildcards escaped. */
function containsCi(column: string, value: string): Expression<SqlBool> {
  const pattern = `%${value.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function endpointSummary(r: Database['endpoints']): EndpointSummary {
  return {
    endpointId: r.endpoint_id,
    hostname: r.hostname,
    platform: r.platform,
    osName: r.os_name,
    osRelease: r.os_release,
    arch: r.arch,
    agentId: r.agent_id,
    agentVersion: r.agent_version,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    lastHeartbeatAt: r.last_heartbeat_at,
    duplicateOf: r.duplicate_of,
  };
}


/**
 * A page from up to n + 1 rows: the first n (fewer when `size` is given and their stored JSON
 * passes MAX_PAGE_BYTES), and a cursor made from the last item and the count kept, when more remain.
 */
function page<T>(rows: T[], n: number, next: (last: T, kept: number) => string, size?: (row: T) => number): Page<T> {
  let keep = Math.min(rows.length, n);
  if (size) keep = withinBudget(rows.slice(0, keep).map(size));
  if (rows.length <= keep) return { items: rows, nextCursor: null };
  const items = rows.slice(0, keep);
  return { items, nextCursor: next(items[items.length - 1]!, keep) };
}

/** Uncompressed batch-log bytes one page of events may decompress (past it the page is cut). */
const MAX_PAGE_LOAD_BYTES = 64 * 1024 * 1024;

/** One fingerprint's group of a listServers page, before its names, clients and risk. */
interface GroupRow {
  fingerprint: string;
  endpoint_count: string | number;
  entry_count: string | number;
  transport: string | null;
  command: string | null;
  url: string | null;
  package_ecosystem: string | null;
  package_name: string | null;
  package_version: string | null;
  first_seen: string | null;
  last_seen: string | null;
}

export class InventoryQueries {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly events: EventReader,
    /** SQLite: listServers reads the aggregates of migration 0018 (server-groups-migration.ts). */
    private readonly engine: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  async listEndpoints(f: EndpointFilter): Promise<Page<EndpointSummary>> {
    const n = pageSize(f.limit);
    let q = this.db.selectFrom('endpoints as e').selectAll('e');
    if (f.os !== undefined) {
      const os = f.os;
      q = q.where((eb) => eb.or([eb('e.platform', '=', os), containsCi('e.os_name', os)]));
    }
    if (f.hostname !== undefined) q = q.where(containsCi('e.hostname', f.hostname));
    if (f.user !== undefined) {
      const user = f.user;
      q = q.where(({ exists, selectFrom }) =>
        exists(selectFrom('endpoint_users as u').select(sql`1`.as('one')).whereRef('u.endpoint_id', '=', 'e.endpoint_id').where('u.user_name', '=', user).where('u.present', '=', 1)),
      );
    }
    if (f.client !== undefined) {
      const client = f.client;
      q = q.where(({ exists, selectFrom }) =>
        exists(selectFrom('clients as c').select(sql`1`.as('one')).whereRef('c.endpoint_id', '=', 'e.endpoint_id').where('c.client', '=', client).where('c.present', '=', 1)),
      );
    }
    if (f.serverName !== undefined) {
      const name = f.serverName;
      q = q.where(({ exists, selectFrom }) =>
        exists(selectFrom('servers as s').select(sql`1`.as('one')).whereRef('s.endpoint_id', '=', 'e.endpoint_id').where('s.name', '=', name).where('s.present', '=', 1)),
      );
    }
    if (f.findingSeverity !== undefined) {
      const r = rank(f.findingSeverity, 'findingSeverity');
      q = q.where(({ exists, selectFrom }) =>
        exists(selectFrom('findings as f').select(sql`1`.as('one')).whereRef('f.endpoint_id', '=', 'e.endpoint_id').where('f.status', '=', 'open').where('f.severity_rank', '>=', r)),
      );
    }
    if (f.lastSeenAfter !== undefined) q = q.where('e.last_seen', '>=', time(f.lastSeenAfter, 'lastSeenAfter'));
    if (f.lastSeenBefore !== undefined) q = q.where('e.last_seen', '<', time(f.lastSeenBefore, 'lastSeenBefore'));
    if (f.cursor !== undefined) q = q.where('e.endpoint_id', '>', decodeCursor(f.cursor, isId));
    const rows = await q.orderBy('e.endpoint_id').limit(n + 1).execute();
    return page(rows.map(endpointSummary), n, (last) => encodeCursor(last.endpointId));
  }

  async getEndpoint(endpointId: string, recentEvents: number): Promise<EndpointDetail | null> {
    const e = await this.db.selectFrom('endpoints').selectAll().where('endpoint_id', '=', endpointId).executeTakeFirst();
    if (!e) return null;
    // Each list: at most DETAIL_MAX_ROWS rows and about MAX_PAGE_BYTES of stored JSON (a row is kept
    // while the rows before it hold less); a list cut short is named in `truncated`.
    const truncated: string[] = [];
    const present = <T extends 'clients' | 'servers' | 'processes' | 'sockets' | 'config_errors'>(table: T, name: string) =>
      this.db
        .selectFrom((eb) =>
          eb
            .selectFrom(table as 'servers')
            .select([
              'data',
              'first_seen',
              'last_seen',
              sql<number | string>`coalesce(sum(length(data)) over (order by first_seen rows between unbounded preceding and 1 preceding), 0)`.as('before'),
              sql<number | string>`count(*) over ()`.as('total'),
            ])
            .where('endpoint_id', '=', endpointId)
            .where('present', '=', 1)
            .as('t'),
        )
        .selectAll()
        .where('before', '<', MAX_PAGE_BYTES)
        .orderBy('first_seen')
        .limit(DETAIL_MAX_ROWS)
        .execute()
        .then((rows) => {
          if (rows.length > 0 && rows.length < Number(rows[0]!.total)) truncated.push(name);
          return rows.map((r) => ({ ...JSON.parse(r.data), firstSeen: r.first_seen, lastSeen: r.last_seen }));
        });
    const [users, clients, servers, processes, sockets, configErrors, findings, events] = await Promise.all([
      this.db.selectFrom('endpoint_users').select('user_name').where('endpoint_id', '=', endpointId).where('present', '=', 1).orderBy('user_name').execute(),
      present('clients', 'clients'),
      present('servers', 'servers'),
      present('processes', 'processes'),
      present('sockets', 'sockets'),
      present('config_errors', 'configErrors'),
      this.db
        .selectFrom((eb) =>
          eb
            .selectFrom('findings')
            .selectAll()
            .select([
              sql<number | string>`coalesce(sum(length(data)) over (order by status, severity_rank desc, finding_id rows between unbounded preceding and 1 preceding), 0)`.as('before'),
              sql<number | string>`count(*) over ()`.as('total'),
            ])
            .where('endpoint_id', '=', endpointId)
            .as('t'),
        )
        .selectAll()
        .where('before', '<', MAX_PAGE_BYTES)
        .orderBy('status')
        .orderBy('severity_rank', 'desc')
        .orderBy('finding_id')
        .limit(DETAIL_MAX_ROWS)
        .execute()
        .then((rows) => {
          if (rows.length > 0 && rows.length < Number(rows[0]!.total)) truncated.push('findings');
          return rows;
        }),
      this.eventsWithinBudget(this.db.selectFrom('events').where('endpoint_id', '=', endpointId), Math.max(0, Math.min(recentEvents, MAX_PAGE_SIZE))).then((r) => {
        if (r.cut) truncated.push('recentEvents');
        return r.rows;
      }),
    ]);
    return {
      endpoint: {
        ...endpointSummary(e),
        hardwareUuid: e.hardware_uuid,
        users: users.map((u) => u.user_name),
        health: parseJson(e.health),
        lastSnapshotAt: e.last_snapshot_at,
      },
      clients,
      servers,
      processes,
      sockets,
      configErrors,
      findings: findings.map((f) => ({
        ...JSON.parse(f.data),
        status: f.status as 'open' | 'resolved',
        resolvedAt: f.resolved_at,
        firstSeen: f.first_seen,
        lastSeen: f.last_seen,
      })),
      recentEvents: events,
      truncated,
    };
  }

  async listServers(f: ServerFilter): Promise<Page<ServerGroup>> {
    const n = pageSize(f.limit);
    const offset = f.cursor !== undefined ? decodeCursor(f.cursor, isOffset).o : 0;
    const byName = this.engine === 'sqlite' && f.name !== undefined && f.package === undefined && f.transport === undefined && f.client === undefined && f.effective === undefined && f.risk === undefined;
    const rows = byName ? await this.#serverGroupsOfName(f.name!, n, offset) : await this.#serverGroups(f, n, offset);
    return this.#serverPage(rows, n, offset);
  }

  /**
   * One page of listServers(name) from the aggregates (server-groups-migration.ts): one row of
   * server_name_groups per fingerprint, the max of each column over its variants, and first / last
   * seen as one seek each in servers_name_first / servers_name_seen. The same rows as
   * #serverGroups with only the name filter, in the same order.
   */
  async #serverGroupsOfName(name: string, n: number, offset: number): Promise<GroupRow[]> {
    const { rows } = await sql<GroupRow>`
      select g.fingerprint, g.endpoints as endpoint_count, g.entries as entry_count,
        (select max(v.transport) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as transport,
        (select max(v.command) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as command,
        (select max(v.url) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as url,
        (select max(v.package_ecosystem) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as package_ecosystem,
        (select max(v.package_name) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as package_name,
        (select max(v.package_version) from server_name_variants v where v.name = g.name and v.fingerprint = g.fingerprint) as package_version,
        (select min(s.first_seen) from servers s where s.name = g.name and s.fingerprint = g.fingerprint and s.present = 1) as first_seen,
        (select max(s.last_seen) from servers s where s.name = g.name and s.fingerprint = g.fingerprint and s.present = 1) as last_seen
      from server_name_groups g where g.name = ${name}
      order by g.endpoints desc, g.fingerprint limit ${n + 1} offset ${offset}`.execute(this.db);
    return rows;
  }

  /** One page of listServers: the present server rows that pass `f`, grouped by fingerprint. */
  async #serverGroups(f: ServerFilter, n: number, offset: number): Promise<GroupRow[]> {
    let q = this.db.selectFrom('servers as s').where('s.present', '=', 1);
    if (f.name !== undefined) q = q.where('s.name', '=', f.name);
    if (f.package !== undefined) q = q.where('s.package_name', '=', f.package);
    if (f.transport !== undefined) q = q.where('s.transport', '=', f.transport);
    if (f.client !== undefined) q = q.where('s.client', '=', f.client);
    if (f.effective !== undefined) q = q.where('s.effective', '=', f.effective);
    if (f.risk !== undefined) {
      const r = rank(f.risk, 'risk');
      q = q.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('findings as f')
            .select(sql`1`.as('one'))
            .whereRef('f.endpoint_id', '=', 's.endpoint_id')
            .whereRef('f.server_key', '=', 's.server_key')
            .where('f.status', '=', 'open')
            .where('f.severity_rank', '>=', r),
        ),
      );
    }
    return q
      .select((eb) => [
        's.fingerprint',
        eb.fn.count<string | number>('s.endpoint_id').distinct().as('endpoint_count'),
        eb.fn.countAll<string | number>().as('entry_count'),
        eb.fn.max('s.transport').as('transport'),
        eb.fn.max('s.command').as('command'),
        eb.fn.max('s.url').as('url'),
        eb.fn.max('s.package_ecosystem').as('package_ecosystem'),
        eb.fn.max('s.package_name').as('package_name'),
        eb.fn.max('s.package_version').as('package_version'),
        eb.fn.min('s.first_seen').as('first_seen'),
        eb.fn.max('s.last_seen').as('last_seen'),
      ])
      .groupBy('s.fingerprint')
      .orderBy('endpoint_count', 'desc')
      .orderBy('s.fingerprint')
      .limit(n + 1)
      .offset(offset)
      .execute();
  }

  /** The groups of a page with their names, clients and highest open finding. */
  async #serverPage(rows: GroupRow[], n: number, offset: number): Promise<Page<ServerGroup>> {
    const fps = rows.slice(0, n).map((r) => r.fingerprint);
    const names = new Map<string, Set<string>>();
    const clients = new Map<string, Set<string>>();
    const risk = new Map<string, number>();
    if (fps.length > 0) {
      const [nameRows, riskRows] = await Promise.all([
        this.engine === 'sqlite'
          ? this.#namesAndClientsOf(fps)
          : this.db.selectFrom('servers').select(['fingerprint', 'name', 'client']).distinct().where('fingerprint', 'in', fps).where('present', '=', 1).limit(fps.length * 100).execute(),
        // SQLite: open findings per fingerprint and rank are kept in fingerprint_risk (migration 0018).
        this.engine === 'sqlite'
          ? sql<{ fingerprint: string; rank: number }>`select fingerprint, max(severity_rank) as rank from fingerprint_risk where fingerprint in (${sql.join(fps)}) group by fingerprint`
              .execute(this.db)
              .then((r) => r.rows)
          : this.db
              .selectFrom('servers as s')
              .innerJoin('findings as f', (j) => j.onRef('f.endpoint_id', '=', 's.endpoint_id').onRef('f.server_key', '=', 's.server_key'))
              .select((eb) => ['s.fingerprint', eb.fn.max('f.severity_rank').as('rank')])
              .where('s.fingerprint', 'in', fps)
              .where('s.present', '=', 1)
              .where('f.status', '=', 'open')
              .groupBy('s.fingerprint')
              .execute(),
      ]);
      for (const r of nameRows) {
        const ns = names.get(r.fingerprint) ?? new Set<string>();
        if (ns.size < 20) ns.add(r.name);
        names.set(r.fingerprint, ns);
        const cs = clients.get(r.fingerprint) ?? new Set<string>();
        cs.add(r.client);
        clients.set(r.fingerprint, cs);
      }
      for (const r of riskRows) risk.set(r.fingerprint, Number(r.rank));
    }
    const groups: ServerGroup[] = rows.map((r) => {
      const rk = risk.get(r.fingerprint);
      return {
        fingerprint: r.fingerprint,
        names: [...(names.get(r.fingerprint) ?? [])].sort(),
        transport: r.transport ?? 'unknown',
        command: r.command ?? null,
        url: r.url ?? null,
        packageEcosystem: r.package_ecosystem ?? null,
        packageName: r.package_name ?? null,
        packageVersion: r.package_version ?? null,
        endpointCount: Number(r.endpoint_count),
        entryCount: Number(r.entry_count),
        clients: [...(clients.get(r.fingerprint) ?? [])].sort(),
        maxSeverity: rk === undefined ? null : (SEVERITIES[rk] ?? null),
        firstSeen: r.first_seen ?? '',
        lastSeen: r.last_seen ?? '',
      };
    });
    return page(groups, n, (_last, kept) => encodeCursor({ o: offset + kept }));
  }

  /**
   * SQLite: the distinct (name, client) pairs of each fingerprint's present rows (at most
   * NAME_PAIRS_MAX each), walked in servers_fingerprint_names (fingerprint, present, name, client)
   * one seek per step: the next client of the same name, else the first pair of the next name.
   * SELECT DISTINCT reads every index entry of the fingerprint unless ANALYZE statistics tell SQLite
   * to skip ahead (the collector's database has none): ~11k entries, ~280 pages, for a server on a
   * tenth of a 100,000-endpoint fleet, 10.7 ms a page on average in bench:fleet, where ingest keeps
   * changing the database and SQLite re-reads those pages for each query. (One row-value bound,
   * (name, client) > (?, ?), seeks to the first entry of the same name and steps through all of its
   * duplicates.) The walk reads a few pages per pair.
   */
  async #namesAndClientsOf(fps: string[]): Promise<Array<{ fingerprint: string; name: string; client: string }>> {
    type Pair = { name: string; client: string };
    const out: Array<{ fingerprint: string; name: string; client: string }> = [];
    const first = async (q: ReturnType<typeof sql<Pair>>) => (await q.execute(this.db)).rows[0];
    for (const fingerprint of fps) {
      let pair = await first(sql<Pair>`select name, client from servers where fingerprint = ${fingerprint} and present = 1 order by name, client limit 1`);
      for (let n = 0; pair && n < NAME_PAIRS_MAX; n++) {
        const { name, client } = pair;
        out.push({ fingerprint, name, client });
        pair =
          (await first(sql<Pair>`select name, client from servers where fingerprint = ${fingerprint} and present = 1 and name = ${name} and client > ${client} order by client limit 1`)) ??
          (await first(sql<Pair>`select name, client from servers where fingerprint = ${fingerprint} and present = 1 and name > ${name} order by name, client limit 1`));
      }
    }
    return out;
  }

  async serverEndpoints(fingerprint: string, req: PageRequest): Promise<Page<ServerEndpoint>> {
    const n = pageSize(req.limit);
    let q = this.db
      .selectFrom('servers as s')
      .innerJoin('endpoints as e', 'e.endpoint_id', 's.endpoint_id')
      .select(['s.endpoint_id', 'e.hostname', 'e.platform', 's.server_key', 's.name', 's.client', 's.user_name', 's.config_path', 's.first_seen', 's.last_seen'])
      .where('s.fingerprint', '=', fingerprint)
      .where('s.present', '=', 1);
    if (req.cursor !== undefined) {
      const [ep, key] = decodeCursor(req.cursor, isKeyPair);
      q = q.where((eb) => eb.or([eb('s.endpoint_id', '>', ep), eb.and([eb('s.endpoint_id', '=', ep), eb('s.server_key', '>', key)])]));
    }
    const rows = await q.orderBy('s.endpoint_id').orderBy('s.server_key').limit(n + 1).execute();
    const items = rows.map((r) => ({
      endpointId: r.endpoint_id,
      hostname: r.hostname,
      platform: r.platform,
      serverKey: r.server_key,
      name: r.name,
      client: r.client,
      user: r.user_name,
      configPath: r.config_path,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
    }));
    return page(items, n, (last) => encodeCursor([last.endpointId, last.serverKey]));
  }

  async listFindings(f: FindingFilter): Promise<Page<FindingView>> {
    const n = pageSize(f.limit);
    const offset = f.cursor !== undefined ? decodeCursor(f.cursor, isOffset).o : 0;
    let q = this.db.selectFrom('findings as f').innerJoin('endpoints as e', 'e.endpoint_id', 'f.endpoint_id').selectAll('f').select('e.hostname');
    if (f.severity !== undefined) q = q.where('f.severity_rank', '>=', rank(f.severity, 'severity'));
    if (f.rule !== undefined) q = q.where('f.rule_id', '=', f.rule);
    if (f.status !== undefined) q = q.where('f.status', '=', f.status);
    if (f.endpointId !== undefined) q = q.where('f.endpoint_id', '=', f.endpointId);
    const rows = await q
      .orderBy('f.severity_rank', 'desc')
      .orderBy('f.last_seen', 'desc')
      .orderBy('f.endpoint_id')
      .orderBy('f.finding_id')
      .limit(n + 1)
      .offset(offset)
      .execute();
    const p = page(rows, n, (_last, kept) => encodeCursor({ o: offset + kept }), (r) => r.data.length + r.title.length);
    const items = p.items.map((r) => ({
      endpointId: r.endpoint_id,
      hostname: r.hostname,
      findingId: r.finding_id,
      ruleId: r.rule_id,
      severity: r.severity as Severity,
      title: r.title,
      status: r.status as 'open' | 'resolved',
      resolvedAt: r.resolved_at,
      serverKey: r.server_key,
      serverName: r.server_name,
      client: r.client,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      finding: JSON.parse(r.data),
    }));
    return { items, nextCursor: p.nextCursor };
  }

  /**
   * Events newest first (by id: a ULID, whose prefix is the event time). `since`/`until` bound both
   * the id (an index range) and the recorded time.
   */
  async listEvents(f: EventFilter): Promise<Page<StoredEvent>> {
    const n = pageSize(f.limit);
    let q = this.db.selectFrom('events');
    if (f.since !== undefined) {
      const since = time(f.since, 'since');
      q = q.where('id', '>=', ulidTimePrefix(Date.parse(since))).where('time', '>=', since);
    }
    if (f.until !== undefined) {
      const until = time(f.until, 'until');
      q = q.where('id', '<', ulidTimePrefix(Date.parse(until) + 1)).where('time', '<', until);
    }
    if (f.endpointId !== undefined) q = q.where('endpoint_id', '=', f.endpointId);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.cursor !== undefined) q = q.where('id', '<', decodeCursor(f.cursor, isEventId));
    const { rows: items, more } = await this.eventsWithinBudget(q, n);
    return { items, nextCursor: more && items.length > 0 ? encodeCursor(items[items.length - 1]!.id) : null };
  }

  /**
   * The newest `n` events of `q` that fit MAX_PAGE_BYTES (at least one), whether more remain, and
   * whether the budget (not `n`) ended the page. The index rows come first (no event JSON in
   * them); their events are then read from the batch log (event-reader.ts: only the batches they
   * are in, decompressed once each; loading stops past MAX_PAGE_LOAD_BYTES of uncompressed body)
   * and the page is cut at the byte budget.
   */
  private async eventsWithinBudget(q: SelectQueryBuilder<Database, 'events', object>, n: number): Promise<{ rows: StoredEvent[]; more: boolean; cut: boolean }> {
    if (n <= 0) return { rows: [], more: false, cut: false };
    const index = await q.select(['id', 'type', 'time', 'endpoint_id', 'log_id', 'pos', 'data']).orderBy('id', 'desc').limit(n + 1).execute();
    const { events, complete } = await this.events.load(index.slice(0, n), MAX_PAGE_LOAD_BYTES);
    const keep = withinBudget(events.map((e) => JSON.stringify(e.data)?.length ?? 4));
    const rows = events.slice(0, keep);
    // More remain: rows past n, or past what was loaded or kept (a row left out because its log
    // row is gone does not count as one).
    const lastKept = rows.length > 0 ? rows[rows.length - 1]!.id : null;
    const more = index.length > n || keep < events.length || (!complete && lastKept !== null);
    return { rows, more, cut: keep < events.length || !complete };
  }
}
