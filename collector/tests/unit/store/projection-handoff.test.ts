/**
 * The in-memory hand-off from ingest to the projector (src/store/projection-handoff.ts): bounded,
 * and it answers only for the very log row (log id, agent, seq) an entry was offered for.
 */
import type { McpEvent } from '@mcpwatch/shared';
import { ProjectionHandOff, type AppendedBatch } from '../../../src/store/projection-handoff.js';

function batch(logId: number, events: number, agentId = 'ag_1', seq = logId, bytes = events * 100): AppendedBatch {
  const list = Array.from({ length: events }, (_, i) => ({ id: `${logId}-${i}` }) as unknown as McpEvent);
  return { logId, agentId, seq, partition: 0, events: list, bytes };
}

describe('ProjectionHandOff', () => {
  test('holds an offered batch for its log row until it is forgotten; a projected one counts as a hit', () => {
    const h = new ProjectionHandOff(1000);
    const b = batch(7, 3);
    h.offer(b);
    expect(h.get(7, 'ag_1', 7)?.events).toBe(b.events);
    expect(h.get(7, 'ag_1', 7)?.events).toBe(b.events);
    h.forget(7, true);
    expect(h.get(7, 'ag_1', 7)).toBeUndefined();
    expect(h.hits).toBe(1);
    expect(h.size).toBe(0);
  });

  test('a log id held for another agent or seq (a reused id) answers nothing and is dropped', () => {
    const h = new ProjectionHandOff(1000);
    h.offer(batch(7, 3, 'ag_1', 4));
    expect(h.get(7, 'ag_1', 5)).toBeUndefined();
    expect(h.size).toBe(0);
    h.offer(batch(8, 3, 'ag_1', 4));
    expect(h.get(8, 'ag_2', 4)).toBeUndefined();
    expect(h.size).toBe(0);
  });

  test('when full a new batch is not held (the oldest stay: the projector needs them next) and is counted; a batch bigger than the bound is not held', () => {
    const h = new ProjectionHandOff(10);
    h.offer(batch(1, 4));
    h.offer(batch(2, 4));
    h.offer(batch(3, 4));
    expect(h.dropped).toBe(1);
    expect(h.get(1, 'ag_1', 1)?.events).toHaveLength(4);
    expect(h.get(2, 'ag_1', 2)?.events).toHaveLength(4);
    expect(h.get(3, 'ag_1', 3)).toBeUndefined();
    h.forget(1, true);
    h.offer(batch(4, 4));
    expect(h.get(4, 'ag_1', 4)?.events).toHaveLength(4);
    h.offer(batch(5, 11));
    expect(h.get(5, 'ag_1', 5)).toBeUndefined();
    expect(h.size).toBe(2);
  });

  test('entries older than maxAgeMs (never taken) make room for new ones', () => {
    let now = 1_000;
    const h = new ProjectionHandOff(8, { maxAgeMs: 500, now: () => now });
    h.offer(batch(1, 4));
    h.offer(batch(2, 4));
    now += 600;
    h.offer(batch(3, 4));
    expect(h.get(1, 'ag_1', 1)).toBeUndefined();
    expect(h.get(2, 'ag_1', 2)?.events).toHaveLength(4);
    expect(h.get(3, 'ag_1', 3)?.events).toHaveLength(4);
    expect(h.dropped).toBe(1);
  });

  test('the bytes of body held are bounded too: a batch past maxBytes is left to the log', () => {
    const h = new ProjectionHandOff(1000, { maxBytes: 1000 });
    h.offer(batch(1, 2, 'ag_1', 1, 600));
    h.offer(batch(2, 2, 'ag_1', 2, 600));
    expect(h.get(1, 'ag_1', 1)).toBeDefined();
    expect(h.get(2, 'ag_1', 2)).toBeUndefined();
    expect(h.dropped).toBe(1);
    h.forget(1, true);
    h.offer(batch(3, 2, 'ag_1', 3, 900));
    expect(h.get(3, 'ag_1', 3)).toBeDefined();
  });

  test('maxEvents 0 holds nothing', () => {
    const h = new ProjectionHandOff(0);
    h.offer(batch(1, 1));
    expect(h.size).toBe(0);
  });
});
