/**
 * GET /v1/servers?name= from aggregates instead of every server row of the name (issue 15), as a
 * migration for store/migrations.ts. SQLite only (the engine bench:fleet measures, one writer).
 *
 * Before: listServers(name) grouped every present row of the name (~11k at 100,000 endpoints of
 * bench:fleet's fleet) and joined every row of each fingerprint of the page with its findings:
 * ~7.5 + ~6.8 ms of SQL (test/src/bench/fleet-query-bench.ts, 17 ms a call through the store).
 * Now it reads one row per fingerprint:
 * - `server_name_groups` (name, fingerprint): present rows (entryCount) and distinct endpoints
 *   holding one (endpointCount);
 * - `server_name_variants` (name, fingerprint, variant): present rows per distinct (transport,
 *   command, url, package ecosystem/name/version); the group's max of each is the max over its
 *   variants (usually one);
 * - `fingerprint_risk` (fingerprint, severity_rank): open findings on a present server row of the
 *   fingerprint, per rank (maxSeverity is the highest rank held; every listServers reads it);
 * - min(first_seen) / max(last_seen) of the group: one seek each in servers_name_first /
 *   servers_name_seen (name, fingerprint, present, first_seen / last_seen).
 *
 * Kept exact by triggers on `servers` and `findings`, in the transaction that changes the rows,
 * whatever writes them (the projector's snapshot reset and upserts, the tool projection's and the
 * tool-call analytics' findings): a row leaving a group subtracts what it added, a row entering
 * adds. SQLite runs a row trigger as each row changes, so "another present row of this endpoint in
 * the group" is the state just before that row's change: the distinct-endpoint count is exact. The
 * last_seen touches of unchanged rows fire nothing (no trigger column changes).
 *
 * PostgreSQL keeps the grouping query: its row triggers run at the end of a statement (the
 * distinct-endpoint check would see the whole statement's changes), and its projectors run in
 * parallel partitions, where every snapshot would lock the same few hot group rows.
 *
 * servers_name_cover (0016) is dropped: the grouping it served reads the aggregates now, and its
 * wide entries were rewritten by every last_seen touch. A name filter combined with another filter
 * still groups the rows (through servers_name_seen).
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The columns whose max the group answers with, in the variant key's order. */
const VARIANT_COLUMNS = ['transport', 'command', 'url', 'package_ecosystem', 'package_name', 'package_version'] as const;
/** Columns of a servers row that place it in the aggregates (a change of any other fires nothing). */
const SERVER_TRIGGER_COLUMNS = ['endpoint_id', 'server_key', 'present', 'name', 'fingerprint', ...VARIANT_COLUMNS] as const;
const FINDING_TRIGGER_COLUMNS = ['endpoint_id', 'server_key', 'status', 'severity_rank'] as const;

const cols = (prefix: string) => VARIANT_COLUMNS.map((c) => `${prefix}${c}`).join(', ');
const changed = (columns: readonly string[]) => columns.map((c) => `old.${c} is not new.${c}`).join(' or ');

/**
 * The statements of a servers trigger for row `r` (old or new) leaving (-1) or entering (+1) the
 * aggregates. `self`: the changed row as it is now (none after a delete), which "another present
 * row" must not count (after an update it holds its new values). `riskGuard`: extra condition for
 * the findings part (an update that keeps the row present under its fingerprint leaves it alone).
 */
function serverRow(r: 'old' | 'new', sign: -1 | 1, riskGuard: string, self: 'new' | null): string[] {
  const notSelf = self ? ` and not (o.endpoint_id = ${self}.endpoint_id and o.server_key = ${self}.server_key)` : '';
  // The endpoint's own rows, by primary key (a few dozen): unary + keeps name, fingerprint and
  // present from being index keys. Without statistics (no ANALYZE) SQLite otherwise seeks
  // servers_name_first (name, fingerprint, present) or servers_fingerprint_names (fingerprint,
  // present) and walks every row of the group or fingerprint (~11k at 100,000 endpoints) for one
  // of this endpoint's: it made a snapshot's projection ~10x slower in bench:fleet.
  const other = `exists (select 1 from servers o where o.endpoint_id = ${r}.endpoint_id and +o.fingerprint = ${r}.fingerprint and +o.name = ${r}.name and +o.present = 1${notSelf})`;
  const group = `name = ${r}.name and fingerprint = ${r}.fingerprint`;
  const variant = `json_array(${cols(`${r}.`)})`;
  const open = `from findings f where f.endpoint_id = ${r}.endpoint_id and f.server_key = ${r}.server_key and f.status = 'open'`;
  if (sign === 1) {
    return [
      `insert into server_name_groups (name, fingerprint, entries, endpoints) select new.name, new.fingerprint, 1, case when ${other} then 0 else 1 end where new.present = 1
         on conflict (name, fingerprint) do update set entries = entries + 1, endpoints = endpoints + excluded.endpoints`,
      `insert into server_name_variants (name, fingerprint, variant, ${cols('')}, entries) select new.name, new.fingerprint, ${variant}, ${cols('new.')}, 1 where new.present = 1
         on conflict (name, fingerprint, variant) do update set entries = entries + 1`,
      `insert into fingerprint_risk (fingerprint, severity_rank, findings) select new.fingerprint, f.severity_rank, count(*) ${open} and new.present = 1 and (${riskGuard}) group by f.severity_rank
         on conflict (fingerprint, severity_rank) do update set findings = findings + excluded.findings`,
    ];
  }
  return [
    `update server_name_groups set entries = entries - 1, endpoints = endpoints - case when ${other} then 0 else 1 end where old.present = 1 and ${group}`,
    `delete from server_name_groups where old.present = 1 and ${group} and entries = 0`,
    `update server_name_variants set entries = entries - 1 where old.present = 1 and ${group} and variant = ${variant}`,
    `delete from server_name_variants where old.present = 1 and ${group} and variant = ${variant} and entries = 0`,
    `update fingerprint_risk set findings = findings - (select count(*) ${open} and f.severity_rank = fingerprint_risk.severity_rank)
       where old.present = 1 and (${riskGuard}) and fingerprint = old.fingerprint and severity_rank in (select f.severity_rank ${open})`,
    `delete from fingerprint_risk where old.present = 1 and (${riskGuard}) and fingerprint = old.fingerprint and findings = 0`,
  ];
}

/** The statements of a findings trigger for row `r` leaving (-1) or entering (+1) fingerprint_risk. */
function findingRow(r: 'old' | 'new', sign: -1 | 1): string[] {
  const server = `from servers s where s.endpoint_id = ${r}.endpoint_id and s.server_key = ${r}.server_key and s.present = 1`;
  if (sign === 1) {
    return [
      `insert into fingerprint_risk (fingerprint, severity_rank, findings) select s.fingerprint, new.severity_rank, 1 ${server} and new.status = 'open'
         on conflict (fingerprint, severity_rank) do update set findings = findings + 1`,
    ];
  }
  return [
    `update fingerprint_risk set findings = findings - 1 where old.status = 'open' and severity_rank = old.severity_rank and fingerprint = (select s.fingerprint ${server})`,
    `delete from fingerprint_risk where old.status = 'open' and severity_rank = old.severity_rank and fingerprint = (select s.fingerprint ${server}) and findings = 0`,
  ];
}

const trigger = (name: string, head: string, body: string[]) => `create trigger ${name} ${head} begin\n${body.map((s) => `  ${s};`).join('\n')}\nend`;

/** The triggers' DDL (exported for the tests, which drop and recreate nothing else). */
export function serverGroupTriggers(): string[] {
  const moved = `old.present is not new.present or old.fingerprint is not new.fingerprint or old.endpoint_id is not new.endpoint_id or old.server_key is not new.server_key`;
  return [
    trigger('servers_groups_insert', 'after insert on servers when new.present = 1', serverRow('new', 1, '1', 'new')),
    trigger('servers_groups_update', `after update of ${SERVER_TRIGGER_COLUMNS.join(', ')} on servers when (old.present = 1 or new.present = 1) and (${changed(SERVER_TRIGGER_COLUMNS)})`, [
      ...serverRow('old', -1, moved, 'new'),
      ...serverRow('new', 1, moved, 'new'),
    ]),
    trigger('servers_groups_delete', 'after delete on servers when old.present = 1', serverRow('old', -1, '1', null)),
    trigger('findings_risk_insert', `after insert on findings when new.status = 'open' and new.server_key is not null`, findingRow('new', 1)),
    trigger('findings_risk_update', `after update of ${FINDING_TRIGGER_COLUMNS.join(', ')} on findings when (old.status = 'open' or new.status = 'open') and (${changed(FINDING_TRIGGER_COLUMNS)})`, [
      ...findingRow('old', -1),
      ...findingRow('new', 1),
    ]),
    trigger('findings_risk_delete', `after delete on findings when old.status = 'open' and old.server_key is not null`, findingRow('old', -1)),
  ];
}

export const serverGroupsMigration = (engine: 'sqlite' | 'postgres'): Migration => ({
  async up(db: AnyDb) {
    if (engine !== 'sqlite') return;
    await sql`create table server_name_groups (name text not null, fingerprint text not null, entries integer not null, endpoints integer not null, primary key (name, fingerprint)) without rowid`.execute(db);
    await sql.raw(
      `create table server_name_variants (name text not null, fingerprint text not null, variant text not null, transport text, command text, url text, package_ecosystem text, package_name text, package_version text, entries integer not null, primary key (name, fingerprint, variant)) without rowid`,
    ).execute(db);
    await sql`create table fingerprint_risk (fingerprint text not null, severity_rank integer not null, findings integer not null, primary key (fingerprint, severity_rank)) without rowid`.execute(db);
    // Backfill from the rows as they are (the triggers keep it from here, in the same transaction).
    await sql`insert into server_name_groups (name, fingerprint, entries, endpoints) select name, fingerprint, count(*), count(distinct endpoint_id) from servers where present = 1 group by name, fingerprint`.execute(db);
    await sql.raw(
      `insert into server_name_variants (name, fingerprint, variant, ${cols('')}, entries)
       select name, fingerprint, json_array(${cols('')}), ${cols('')}, count(*) from servers where present = 1 group by name, fingerprint, ${cols('')}`,
    ).execute(db);
    await sql`insert into fingerprint_risk (fingerprint, severity_rank, findings)
      select s.fingerprint, f.severity_rank, count(*) from servers s join findings f on f.endpoint_id = s.endpoint_id and f.server_key = s.server_key
      where s.present = 1 and f.status = 'open' group by s.fingerprint, f.severity_rank`.execute(db);
    for (const ddl of serverGroupTriggers()) await sql.raw(ddl).execute(db);
    await sql`create index if not exists servers_name_seen on servers (name, fingerprint, present, last_seen)`.execute(db);
    await sql`create index if not exists servers_name_first on servers (name, fingerprint, present, first_seen)`.execute(db);
    await sql`drop index if exists servers_name_cover`.execute(db);
  },
});
