/**
 * The source-unavailable rule through the rules engine: one finding per persistently failing
 * source (stable id, schema-valid, code and reason in the evidence), none without failures, and
 * the engine's rule switch (disabledRules, local or served) turns it off.
 */
import { Value } from '@sinclair/typebox/value';
import { Finding } from '@mcpwatch/shared';
import { evaluateRules, type RulesInput } from '../../../src/rules/index.js';

const failing = [
  { source: 'sockets', code: 'MCPW_ERR_SOCKET_SOURCE', reason: 'netstat -ano exited 1', since: '2026-12-06T10:00:00.000Z' },
  { source: 'processes', code: 'MCPW_ERR_PROCESS_SOURCE', reason: 'fastlist could not start', since: '2026-12-06T09:00:00.000Z' },
];
const input = (sourceFailures?: RulesInput['sourceFailures']): RulesInput => ({ files: [], raw: [], servers: [], platform: 'win32', ...(sourceFailures ? { sourceFailures } : {}) });

describe('source-unavailable rule', () => {
  it('raises one schema-valid finding per failing source, with its code and reason as evidence', () => {
    const findings = evaluateRules(input(failing));

    expect(findings.map((f) => [f.ruleId, f.evidence?.field, f.evidence?.kind])).toEqual([
      ['source-unavailable', 'source.processes', 'MCPW_ERR_PROCESS_SOURCE'],
      ['source-unavailable', 'source.sockets', 'MCPW_ERR_SOCKET_SOURCE'],
    ]);
    expect(findings.every((f) => Value.Check(Finding, f))).toBe(true);
    expect(findings[1]?.evidence?.detail).toBe('failing since 2026-12-06T10:00:00.000Z: netstat -ano exited 1');
    expect(findings[1]?.title).toBe('The socket table source keeps failing (MCPW_ERR_SOCKET_SOURCE)');
  });

  it('keeps the same finding id while the same source fails (a new reason does not make a new finding)', () => {
    const first = evaluateRules(input([failing[0]!]));
    const later = evaluateRules(input([{ ...failing[0]!, reason: 'netstat -ano timed out' }]));

    expect(later[0]?.id).toBe(first[0]?.id);
  });

  it('raises nothing when no source keeps failing, and nothing when the rule is disabled', () => {
    expect(evaluateRules(input()).filter((f) => f.ruleId === 'source-unavailable')).toEqual([]);
    expect(evaluateRules(input(failing), { disabledRules: ['source-unavailable'] })).toEqual([]);
  });
});
