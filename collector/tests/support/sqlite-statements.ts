/**
 * Records the SQL better-sqlite3 runs in this process while a function runs (text and
 * parameters, in order), by wrapping its statements' run/all/get for that time. For tests of the
 * statements the store issues on SQLite (query plans, transaction settings).
 */
import BetterSqlite3 from 'better-sqlite3';

type StatementProto = Record<'run' | 'all' | 'get', (...args: unknown[]) => unknown> & { source: string };

export interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/** The statements run while `fn` ran. */
export async function statementsRunBy(fn: () => Promise<unknown>): Promise<RecordedStatement[]> {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as StatementProto;
  probe.close();
  const seen: RecordedStatement[] = [];
  const originals = { run: proto.run, all: proto.all, get: proto.get };
  for (const m of ['run', 'all', 'get'] as const) {
    const original = originals[m];
    proto[m] = function (this: StatementProto, ...args: unknown[]) {
      seen.push({ sql: this.source, params: (Array.isArray(args[0]) ? args[0] : args) as unknown[] });
      return original.apply(this, args);
    };
  }
  try {
    await fn();
  } finally {
    Object.assign(proto, originals);
  }
  return seen;
}
