/**
 * Event ids: ULIDs, monotonic within this process.
 */
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new ULID (monotonic within this process). */
export function newEventId(now: number = Date.now()): string {
  return nextUlid(now);
}
