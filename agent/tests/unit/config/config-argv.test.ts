import { splitConfigArgs } from '../../../src/config/config-argv.js';

describe('config argv', () => {
  it('splits config flags from scan flags', () => {
    expect(splitConfigArgs(['--state-dir', '/s', '--home', '/h', '--low-priority', '--heartbeat-ms=5000', '--platform', 'linux', '--low-priority', 'false'])).toEqual({
      config: { 'state-dir': '/s', 'low-priority': 'false', 'heartbeat-ms': '5000' },
      rest: ['--home', '/h', '--platform', 'linux'],
    });
    expect(() => splitConfigArgs(['--server'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_USAGE' }));
  });
});
