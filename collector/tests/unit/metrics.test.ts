import { Counter, Histogram } from '../../src/metrics.js';

describe('metrics', () => {
  test('a counter never grows past its series bound', () => {
    const c = new Counter('x_total', 'x', 2);
    c.inc({ reason: 'a' });
    c.inc({ reason: 'b' });
    c.inc({ reason: 'c' });
    c.inc({ reason: 'a' }, 2);
    expect(c.render()).toBe('# HELP x_total x\n# TYPE x_total counter\nx_total{reason="a"} 3\nx_total{reason="b"} 1');
  });

  test('histogram buckets are cumulative', () => {
    const h = new Histogram('d_seconds', 'd', [0.1, 1]);
    [0.05, 0.5, 0.7, 3].forEach((v) => h.observe(v));
    expect(h.render()).toContain('d_seconds_bucket{le="0.1"} 1\nd_seconds_bucket{le="1"} 3\nd_seconds_bucket{le="+Inf"} 4');
    expect(h.render()).toContain('d_seconds_count 4');
  });
});
