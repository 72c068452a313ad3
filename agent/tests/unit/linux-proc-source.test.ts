import { parseProcStat } from '../../src/collect/linux-proc-source.js';

describe('parseProcStat', () => {
  it('takes the name from inside the last parentheses, even with spaces and parentheses in it', () => {
    const text = '4242 (my (weird) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 3 1 0 0 20 0 1 0 98765 1000 100 18446744073709551615';
    expect(parseProcStat(text)).toEqual({ name: 'my (weird) name', ppid: 17, startTicks: 98765 });
  });

  it('rejects text that is not a stat line', () => {
    expect(parseProcStat('garbage')).toBeNull();
  });
});
