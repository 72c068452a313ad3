// The floor of the events history on SQLite: what appending 100-event batches costs better-sqlite3
// alone (no HTTP, no Kysely, no inventory, no outbox), for the table as the store defines it and
// for leaner layouts, with the store's pragmas and group commit. Answers "how many events/s can
// ONE SQLite writer append to a per-event, indexed history on this machine at best?".
// Run from collector/ (no build needed):  node tests/bench/events-table-floor.mjs [BATCHES] [GROUP]
// Prints, per layout, the median over 3 runs of wall and CPU µs per event (commit included).
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';

const Database = createRequire(import.meta.url)('better-sqlite3');
const BATCHES = Number(process.argv[2] ?? 2000);
const GROUP = Number(process.argv[3] ?? 5);
const COLS = ['id', 'endpoint_id', 'agent_id', 'type', 'time', 'received_at', 'batch_seq', 'data'];
const TABLE = `create table events (id text primary key, endpoint_id text not null, agent_id text not null, type text not null, time text not null, received_at text not null, batch_seq integer not null, data text not null) without rowid;`;
const LAYOUTS = {
  'as stored (clustered id + endpoint and type indexes)': `${TABLE} create index events_endpoint on events(endpoint_id, id); create index events_type on events(type, id);`,
  'rowid table + unique id + the two indexes': `create table events (rid integer primary key, id text not null unique, endpoint_id text not null, agent_id text not null, type text not null, time text not null, received_at text not null, batch_seq integer not null, data text not null); create index events_endpoint on events(endpoint_id, rid); create index events_type on events(type, rid);`,
  'index rows only + one 3 KB blob per batch': `${TABLE} create index events_endpoint on events(endpoint_id, id); create index events_type on events(type, id); create table bodies (k integer primary key, body blob not null);`,
  'clustered id, no secondary index': TABLE,
};
// ~300 bytes of event data, the size of the benchmark agents' events (JSON of a server entry).
const DATA = JSON.stringify({ serverKey: 'k'.repeat(40), fingerprint: 'f'.repeat(64), name: 'srv-12', client: 'claude-desktop', scope: 'user', configPath: '/Users/alice/Library/Application Support/Claude/claude_desktop_config.json', transport: 'stdio', command: 'npx', args: ['-y', '@modelcontextprotocol/server-github@1.2.3'], env: ['GITHUB_TOKEN'] });
const TYPES = ['server.added', 'process.started', 'finding.raised', 'agent.heartbeat'];
const BODY = randomBytes(3000);
const endpoints = Array.from({ length: 16 }, () => randomUUID());
let counter = 0;
const eventId = () => (Date.now().toString(32).padStart(10, '0') + (++counter).toString(32).padStart(16, '0')).toUpperCase();

function run(name, ddl) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpw-floor-'));
  const db = new Database(join(dir, 'events.sqlite'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('cache_size = -65536');
    db.exec(ddl);
    const blob = name.includes('blob');
    const insert = db.prepare(`insert into events (${COLS.join(',')}) values ${Array.from({ length: 100 }, () => `(${COLS.map(() => '?').join(',')})`).join(',')} on conflict(id) do nothing`);
    const insertBody = blob ? db.prepare('insert into bodies (body) values (?)') : null;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < BATCHES; b += GROUP) {
      db.exec('begin immediate');
      for (let g = 0; g < GROUP; g++) {
        const ep = endpoints[(b + g) % endpoints.length];
        const now = new Date().toISOString();
        const params = [];
        for (let i = 0; i < 100; i++) params.push(eventId(), ep, ep, TYPES[i % 4], now, now, b, blob ? '' : DATA);
        insert.run(params);
        insertBody?.run(BODY);
      }
      db.exec('commit');
    }
    const wallNs = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    const events = BATCHES * 100;
    return { wall: wallNs / 1000 / events, cpu: (cpu.user + cpu.system) / events };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.fromEntries(Object.keys(LAYOUTS).map((k) => [k, []]));
for (let r = 0; r < 3; r++) for (const [name, ddl] of Object.entries(LAYOUTS)) results[name].push(run(name, ddl));
console.log(`${BATCHES} batches of 100 events, ${GROUP} batches per commit, median of 3 runs`);
console.log('| layout | wall µs / event | CPU µs / event | events/s one writer at best |');
console.log('| --- | --- | --- | --- |');
for (const [name, rs] of Object.entries(results)) {
  const wall = median(rs.map((x) => x.wall));
  const cpu = median(rs.map((x) => x.cpu));
  console.log(`| ${name} | ${wall.toFixed(1)} | ${cpu.toFixed(1)} | ${Math.round(1e6 / wall).toLocaleString('en-US')} |`);
}
