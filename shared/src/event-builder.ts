import { newEventId } from './event-id.js';
import { EVENT_VERSION, type EventOf, type EventType } from './schemas/events.js';
import { fitEvent } from './schemas/fit.js';

/**
 * Builds an event envelope with a fresh ULID and the current time, its data fitted inside the
 * schema's bounds (an over-long string or list is cut rather than getting the whole batch refused).
 */
export function makeEvent<K extends EventType>(
  type: K,
  endpointId: string,
  data: EventOf<K>['data'],
  now: Date = new Date(),
): EventOf<K> {
  return fitEvent({ v: EVENT_VERSION, id: newEventId(now.getTime()), type, time: now.toISOString(), endpointId, data } as EventOf<K>);
}
