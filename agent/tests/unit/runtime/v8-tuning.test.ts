/**
 * runtime/v8-tuning.ts: once tuned, this process compiles no optimized code. Optimization is
 * forced through V8's test natives, so the outcome does not depend on how hot a loop got. The
 * Jest worker gets its optimizing compiler back afterwards (workers run other test files next).
 */
import v8 from 'node:v8';
import { LONG_RUNNING_V8_FLAGS, tuneForLongRunning } from '../../../src/runtime/v8-tuning.js';

// V8's OptimizationStatus bits (src/runtime/runtime-test.cc).
const NEVER_OPTIMIZE = 1 << 1;
const OPTIMIZED = 1 << 4;

type Natives = { status: (f: unknown) => number; prepare: (f: unknown) => void; optimizeNext: (f: unknown) => void };

function natives(): Natives {
  v8.setFlagsFromString('--allow-natives-syntax');
  return {
    status: new Function('f', 'return %GetOptimizationStatus(f)') as Natives['status'],
    prepare: new Function('f', '%PrepareFunctionForOptimization(f)') as Natives['prepare'],
    optimizeNext: new Function('f', '%OptimizeFunctionOnNextCall(f)') as Natives['optimizeNext'],
  };
}

/** A fresh function, asked to be optimized at its next call, then called. */
function forceOptimize(n: Natives): number {
  const sum = new Function('k', 'let s = 0; for (let i = 0; i < k; i++) s += i; return s') as (k: number) => number;
  n.prepare(sum);
  sum(10);
  n.optimizeNext(sum);
  sum(10);
  return n.status(sum);
}

describe('tuneForLongRunning', () => {
  afterAll(() => v8.setFlagsFromString('--opt'));

  it('stops optimized compilation from then on (before it, the same function is optimized)', () => {
    const n = natives();
    const before = forceOptimize(n);

    tuneForLongRunning();
    const after = forceOptimize(n);

    expect(before & OPTIMIZED).toBe(OPTIMIZED);
    expect(after & OPTIMIZED).toBe(0);
    expect(after & NEVER_OPTIMIZE).toBe(NEVER_OPTIMIZE);
  });

  it('passes each flag to V8 and survives a V8 that refuses one', () => {
    const seen: string[] = [];

    tuneForLongRunning((flag) => {
      seen.push(flag);
      throw new Error('unknown flag');
    });

    expect(seen).toEqual([...LONG_RUNNING_V8_FLAGS]);
  });
});
