import { newEventId } from './ids.js';
import { EVENT_VERSION, type EventOf, type EventType } from './schemas/events.js';

/** Builds an event envelope with a fresh ULID and the current time. */
export function makeEvent<K extends EventType>(
  type: K,
  endpointId: string,
  data: EventOf<K>['data'],
  now: Date = new Date(),
): EventOf<K> {
  return { v: EVENT_VERSION, id: newEventId(now.getTime()), type, time: now.toISOString(), endpointId, data } as EventOf<K>;
}
