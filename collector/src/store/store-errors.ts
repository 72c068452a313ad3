/**
 * How the store reports database failures (both engines): a database that cannot be reached
 * (connection refused/reset, pool exhausted, SQLite busy/full/IO error) is
 * MCPW_ERR_STORE_UNAVAILABLE (503, retryable); a unique violation is MCPW_ERR_CONFLICT; anything
 * else is a programming error and propagates unchanged.
 */
import { Errors, isCollectorError } from '../errors.js';

/** Error codes and messages that mean "the database is not reachable now" (retry later). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300', '40P01', '40001', '08000', '08001', '08003', '08004', '08006',
  'SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_READONLY',
]);
const UNAVAILABLE_MESSAGES = [
  'Connection terminated', 'timeout exceeded when trying to connect', 'database connection is not open',
  'Cannot use a pool after calling end', 'driver has already been destroyed',
];

/** Maps a database failure to MCPW_ERR_STORE_UNAVAILABLE when it is one of reachability, a unique violation to MCPW_ERR_CONFLICT. */
export function classifyStoreError(e: unknown): unknown {
  if (isCollectorError(e)) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return Errors.conflict('a record with this name or key already exists', { cause: e });
  }
  if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_IOERR') || UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
    return Errors.storeUnavailable(`store unavailable: ${message || code}`, { cause: e, retryAfterS: 1 });
  }
  return e;
}
