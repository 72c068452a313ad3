/**
 * ProbeTimers (probe/mcp-probe.ts): the probe's deadline and per-request timeouts, whose timers are
 * cleared when the probe returns instead of firing later (as AbortSignal.timeout's did).
 */
import { jest } from '@jest/globals';
import { ProbeTimers } from '../../../src/probe/mcp-probe.js';

afterEach(() => {
  jest.useRealTimers();
});

test('a signal aborts with a TimeoutError (as AbortSignal.timeout) once its time has passed', () => {
  jest.useFakeTimers();
  const timers = new ProbeTimers();
  const signal = timers.signal(1500);
  const aborted: unknown[] = [];
  signal.addEventListener('abort', () => aborted.push(signal.reason));
  jest.advanceTimersByTime(1499);
  expect(signal.aborted).toBe(false);
  jest.advanceTimersByTime(1);
  expect(signal.aborted).toBe(true);
  expect(aborted).toHaveLength(1);
  expect(signal.reason).toBeInstanceOf(DOMException);
  expect((signal.reason as DOMException).name).toBe('TimeoutError');
  // combined the way the probe combines them, the timeout still reaches the request's signal
  const other = timers.signal(5000);
  const combined = AbortSignal.any([new AbortController().signal, other]);
  jest.advanceTimersByTime(5000);
  expect(combined.aborted).toBe(true);
  expect((combined.reason as DOMException).name).toBe('TimeoutError');
});

test('clear() cancels every timer it made: no signal aborts afterwards and no timer is left', () => {
  jest.useFakeTimers();
  const timers = new ProbeTimers();
  const signals = [timers.signal(4000), timers.signal(1500), timers.signal(1500)];
  expect(jest.getTimerCount()).toBe(3);
  timers.clear();
  expect(jest.getTimerCount()).toBe(0);
  jest.advanceTimersByTime(10_000);
  expect(signals.map((s) => s.aborted)).toEqual([false, false, false]);
});
