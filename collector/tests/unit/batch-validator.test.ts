import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isDateTime, validateBatch } from '../../src/batch-validator.js';
import { makeEvents } from '../../../test/src/harness/test-agent.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;

describe('batch validator', () => {
  test('date-time fast path accepts exactly what ajv-formats accepts', () => {
    const reference = addFormats(new Ajv({ strict: false })).compile({ type: 'string', format: 'date-time' });
    const samples = [
      '2026-06-01T12:00:00.000Z', '2026-06-01T12:00:00Z', '2024-02-29T23:59:59.999999Z', '2023-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-04-31T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01T12:60:00Z',
      '2026-06-01T23:59:60Z', '2026-06-01t12:00:00z', '2026-06-01 12:00:00Z', '2026-06-01T12:00:00+02:00', '2026-06-01T12:00:00',
      '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', 'yesterday', '', '2026-06-01T12:00:00.Z', '2026-06-01T12:00:00.1234567890Z',
    ];
    for (const s of samples) expect([s, isDateTime(s)]).toEqual([s, reference(s)]);
  });

  test('accepts valid batches of every generated event type, and names the first violation', () => {
    const good = { agentId: 'a', seq: 1, prevHash: '', sentAt: 'now', events: makeEvents('ep', 12) };
    expect(validateBatch(good)).toBe(good);
    const bad = structuredClone(good);
    (bad.events[5] as { time: string }).time = 'not a time';
    expect(() => validateBatch(bad)).toThrow(/events\/5\/time must match format "date-time"/);
    const wrongVersion = structuredClone(good);
    (wrongVersion.events[2] as { v: number }).v = 2;
    expect(() => validateBatch(wrongVersion)).toThrow(/events\/2\/v must be equal to constant/);
  });
});
