/**
 * The fleet's tool summary for `GET /v1/tools` (tool-queries.ts toolsPage): endpoints exposing
 * each (server id, tool name, description hash), kept incrementally by the tool projection, so
 * the fleet-wide list groups a table of distinct tool definitions instead of every endpoint's
 * rows (at 100,000 endpoints x 10 tools that group-by took ~27 s on SQLite).
 *
 * `SummaryDeltas` collects one batch's +1 / -1 per definition; `applySummaryDeltas` writes them in
 * key order (a stable lock order on PostgreSQL) and drops rows that reach 0. Throws what the
 * database throws (the projection transaction rolls back whole).
 */
import type { Kysely } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a summary row is about, as an endpoint_tools row has it. */
export interface SummaryRow {
  server_id: string;
  name: string;
  description_sha256: string | null;
  server_name: string | null;
  capabilities: string;
}

export type SummaryDeltas = Map<string, { row: SummaryRow; delta: number }>;

/** Adds `delta` endpoints to the definition of `row`. */
export function addSummaryDelta(deltas: SummaryDeltas, row: SummaryRow, delta: number): void {
  const key = JSON.stringify([row.server_id, row.name, row.description_sha256 ?? '']);
  const cur = deltas.get(key);
  // The latest row of the batch names the server and capabilities (a +1 carries the new ones).
  deltas.set(key, { row: delta > 0 || !cur ? row : cur.row, delta: (cur?.delta ?? 0) + delta });
}

export async function applySummaryDeltas(trx: AnyDb, deltas: SummaryDeltas): Promise<void> {
  for (const key of [...deltas.keys()].sort()) {
    const { row, delta } = deltas.get(key)!;
    if (delta === 0) continue;
    const values = { server_id: row.server_id, name: row.name, description_sha256: row.description_sha256 ?? '', server_name: row.server_name, capabilities: row.capabilities, endpoints: delta };
    await trx
      .insertInto('tool_fleet_summary')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['server_id', 'name', 'description_sha256']).doUpdateSet((eb) => ({
          endpoints: eb('tool_fleet_summary.endpoints', '+', delta),
          ...(delta > 0 ? { server_name: values.server_name, capabilities: values.capabilities } : {}),
        })),
      )
      .execute();
    if (delta < 0) {
      await trx.deleteFrom('tool_fleet_summary').where('server_id', '=', row.server_id).where('name', '=', row.name).where('description_sha256', '=', values.description_sha256).where('endpoints', '<=', 0).execute();
    }
  }
}
