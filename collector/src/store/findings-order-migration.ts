/**
 * An index in the order GET /v1/findings lists findings (severity, newest first; inventory-queries
 * listFindings), as a migration for store/migrations.ts (both engines). Without it both engines
 * read every finding at or above the severity asked and sorted them for each page: at 100,000
 * endpoints, tens of thousands of rows with their JSON per request. With it a page is the first
 * rows of an index range.
 */
import { sql, type Kysely, type Migration } from 'kysely';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const findingsOrderMigration = (): Migration => ({
  async up(db: AnyDb) {
    await sql`create index if not exists findings_by_severity on findings (severity_rank desc, last_seen desc, endpoint_id, finding_id)`.execute(db);
  },
});
