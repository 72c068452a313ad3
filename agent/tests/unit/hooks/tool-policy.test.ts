/**
 * Tool policy decisions (blocked tool, blocked server by name / fingerprint / package, allowed
 * list, ask, default) and the hand-written shape check held to the shared TypeBox ToolPolicy
 * schema on the same samples.
 */
import ajvModule from 'ajv';
import { ToolPolicy as ToolPolicySchema } from '@mcpwatch/shared';
import { decideToolCall, globMatches, toolPolicyProblem, userMessage, type ToolPolicy } from '../../../src/hooks/tool-policy.js';

type AjvClass = typeof ajvModule.default;
const AjvCtor = ((ajvModule as unknown as { default?: AjvClass }).default ?? ajvModule) as AjvClass;
const validate = new AjvCtor({ allErrors: true, strict: false }).compile(ToolPolicySchema);

test('globs: * matches any run, anchored, case-insensitive, regex characters literal', () => {
  expect(globMatches('create_*', 'create_issue')).toBe(true);
  expect(globMatches('create_*', 'xcreate_issue')).toBe(false);
  expect(globMatches('GitHub', 'github')).toBe(true);
  expect(globMatches('a.b', 'axb')).toBe(false);
  expect(globMatches('*', 'anything')).toBe(true);
});

test('decisions, in order: blocked tool, blocked server, not allowed, ask, default', () => {
  const p: ToolPolicy = {
    mode: 'enforce',
    blockedTools: [{ server: 'github', tool: 'delete_*' }],
    blockedServers: ['evil-*', 'fp:abc123', '@bad/pkg'],
    allowedServers: ['github', 'filesystem', 'evil-one'],
    askTools: [{ server: 'filesystem', tool: 'write_*' }],
  };
  expect(decideToolCall(p, { server: 'github', tool: 'delete_repo' })).toMatchObject({ decision: 'deny', rule: 'blocked-tool' });
  expect(decideToolCall(p, { server: 'evil-one', tool: 'x' })).toMatchObject({ decision: 'deny', rule: 'blocked-server' });
  expect(decideToolCall(p, { server: 'github', tool: 'x', serverFingerprint: 'fp:abc123' })).toMatchObject({ decision: 'deny', rule: 'blocked-server' });
  expect(decideToolCall(p, { server: 'github', tool: 'x', serverPackage: '@bad/pkg' })).toMatchObject({ decision: 'deny', rule: 'blocked-server' });
  expect(decideToolCall(p, { server: 'slack', tool: 'post' })).toMatchObject({ decision: 'deny', rule: 'not-allowed-server' });
  expect(decideToolCall(p, { server: 'filesystem', tool: 'write_file' })).toMatchObject({ decision: 'ask', rule: 'ask-tool' });
  expect(decideToolCall(p, { server: 'filesystem', tool: 'read_file' })).toMatchObject({ decision: 'allow', rule: 'default' });
  expect(decideToolCall(null, { server: 'x', tool: 'y' })).toMatchObject({ decision: 'allow', rule: 'no-policy' });
});

test('the deny message says what, why and who to ask', () => {
  const p: ToolPolicy = { mode: 'enforce', blockedServers: ['slack'], contact: 'it-help@example.com' };
  const s = { server: 'slack', tool: 'post_message' };
  expect(userMessage(s, decideToolCall(p, s), p)).toBe('mcpwatch blocked the MCP tool call slack/post_message: server slack is blocked by policy. To request an exception, contact it-help@example.com.');
});

const SAMPLES: unknown[] = [
  { mode: 'audit' },
  { mode: 'enforce', failMode: 'deny', allowedServers: ['a'], blockedServers: ['b'], blockedTools: [{ server: 's', tool: 't' }], askTools: [{ server: '*', tool: 'w*' }], contact: 'c', revision: 'r1' },
  { mode: 'lockdown' },
  {},
  [],
  null,
  { mode: 'audit', extra: 1 },
  { mode: 'audit', failMode: 'maybe' },
  { mode: 'audit', blockedServers: [''] },
  { mode: 'audit', blockedServers: 'github' },
  { mode: 'audit', blockedTools: [{ server: 's' }] },
  { mode: 'audit', blockedTools: [{ server: 's', tool: 't', x: 1 }] },
  { mode: 'audit', askTools: [{ server: 's', tool: '' }] },
  { mode: 'audit', contact: 5 },
  { mode: 'audit', revision: 'r'.repeat(65) },
  { mode: 'audit', allowedServers: ['x'.repeat(257)] },
];

test.each(SAMPLES.map((s) => [JSON.stringify(s), s]))('shape check agrees with the shared schema: %s', (_name, sample) => {
  expect(toolPolicyProblem(sample) === null).toBe(validate(sample));
});
