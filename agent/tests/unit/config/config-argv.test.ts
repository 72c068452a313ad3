import { splitConfigArgs } from '../../../src/config/config-argv.js';

describe('config argv', () => {
  it('splits config flags from scan flags', () => {
    expect(splitConfigArgs(['--state-dir', '/s', '--home', '/h', '--low-priority', '--heartbeat-ms=5000', '--platform', 'linux', '--low-priority', 'false'])).toEqual({
      config: { 'state-dir': '/s', 'low-priority': 'false', 'heartbeat-ms': '5000' },
      rest: ['--home', '/h', '--platform', 'linux'],
    });
    // A deprecated setting's flag still takes its value (loadConfig warns about it).
    expect(splitConfigArgs(['--socket-poll-ms', '1000', '--once'])).toEqual({ config: { 'socket-poll-ms': '1000' }, rest: ['--once'] });
    expect(() => splitConfigArgs(['--server'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_USAGE' }));
  });
});
