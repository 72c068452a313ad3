/**
 * SQL helpers shared by the store's parts: multi-row INSERT text compiled once per shape and
 * reused, multi-row upserts, and chunking under SQLite's bound-parameter limit. No I/O of its own.
 */
import { CompiledQuery, type Compilable, type QueryResult, type Transaction } from 'kysely';

/** Rows per multi-row INSERT, so no statement passes SQLite's 32766 bound parameters. */
export function chunkRows<T>(rows: T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(30000 / Math.max(1, columns)));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export type AnyTrx = Transaction<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * SQL text of multi-row INSERTs, compiled by Kysely once per shape (table, columns, row count,
 * conflict clause) and reused with fresh parameters: building and compiling the query tree of a
 * 100-row insert costs more than SQLite's work for it. A shape is cached only after checking that
 * the parameters Kysely produced are exactly the rows' values in column order.
 */
export class InsertShapes {
  readonly #sql = new Map<string, string | null>();
  readonly #max = 2048;

  /** A multi-row INSERT of `rows` (the shape includes the column list and the row count). */
  insert<R>(trx: AnyTrx, shape: string, rows: Record<string, unknown>[], build: (rows: Record<string, unknown>[]) => Compilable<R>): Promise<R[]> {
    const { key, params } = insertShape(shape, rows);
    return this.run(trx, key, params, () => build(rows));
  }

  /** Like insert(), for an INSERT without RETURNING: resolves to the number of rows it inserted. */
  async insertCount(trx: AnyTrx, shape: string, rows: Record<string, unknown>[], build: (rows: Record<string, unknown>[]) => Compilable<unknown>): Promise<number> {
    const { key, params } = insertShape(shape, rows);
    return Number((await this.#execute(trx, key, params, () => build(rows))).numAffectedRows ?? 0n);
  }

  /** Any statement whose SQL text depends only on `shape` and whose parameters are `params`, in order. */
  async run<R>(trx: AnyTrx, shape: string, params: unknown[], build: () => Compilable<R>): Promise<R[]> {
    return (await this.#execute(trx, shape, params, build)).rows as R[];
  }

  #execute(trx: AnyTrx, shape: string, params: unknown[], build: () => Compilable<unknown>): Promise<QueryResult<unknown>> {
    const cached = this.#sql.get(shape);
    if (cached) return trx.executeQuery(CompiledQuery.raw(cached, params));
    const compiled = build().compile();
    if (cached === undefined && this.#sql.size < this.#max) {
      const same = compiled.parameters.length === params.length && compiled.parameters.every((p, i) => p === params[i]);
      this.#sql.set(shape, same ? compiled.sql : null);
    }
    return trx.executeQuery(compiled);
  }
}

/** The cache key of a multi-row INSERT of `rows` (columns and row count) and its parameters in order. */
function insertShape(shape: string, rows: Record<string, unknown>[]): { key: string; params: unknown[] } {
  const columns = Object.keys(rows[0]!);
  const params: unknown[] = [];
  for (const r of rows) for (const c of columns) params.push(r[c]);
  return { key: `${shape}|${columns.join(',')}|${rows.length}`, params };
}

/**
 * Multi-row upsert: inserts `rows`; on a key conflict updates every column except the key
 * columns and `first_seen` (so first seen survives).
 */
export async function upsertRows(shapes: InsertShapes, trx: AnyTrx, table: string, keyColumns: string[], rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const updated = columns.filter((c) => !keyColumns.includes(c) && c !== 'first_seen');
  for (const chunk of chunkRows(rows, columns.length)) {
    await shapes.insert(trx, `upsert:${table}:${keyColumns.join(',')}`, chunk, (values) =>
      trx
        .insertInto(table)
        .values(values)
        .onConflict((oc) =>
          oc.columns(keyColumns as never).doUpdateSet((eb) => Object.fromEntries(updated.map((c) => [c, eb.ref(`excluded.${c}`)])) as never),
        ),
    );
  }
}

