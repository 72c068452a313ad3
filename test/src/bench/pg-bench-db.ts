/**
 * A fresh PostgreSQL database for one bench run, made in the server `url` names and dropped
 * afterwards (drop() is safe to call once the bench is done with it). null, with the reason on
 * stderr, when the server cannot be reached or refuses.
 */
import pg from 'pg';

export async function freshPgDatabase(url: string, prefix = 'mcpw_bench'): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (url === 'off') return null;
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (e) {
    process.stderr.write(`PostgreSQL skipped: ${(e as Error).message}\n`);
    await admin.end().catch(() => undefined);
    return null;
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}
