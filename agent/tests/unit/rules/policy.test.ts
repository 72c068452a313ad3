import { effectivePolicy, policyChanged, rulesOptionsOf, rulesPolicyChanged } from '../../../src/rules/policy.js';

const local = { processPollMs: 5000, heartbeatMs: 60_000, snapshotEveryHours: 6 };

describe('policy', () => {
  it('takes served settings over local defaults and ignores out-of-bound values', () => {
    const p = effectivePolicy(local, { processPollMs: 9000, heartbeatMs: 10, snapshotEveryHours: 1, disabledRules: ['a'], allowServers: ['srv'] });
    expect(p).toMatchObject({ processPollMs: 9000, heartbeatMs: 60_000, snapshotEveryHours: 1 });
    expect([...p.disabledRules]).toEqual(['a']);
    expect(policyChanged(p, effectivePolicy(local, { processPollMs: 9000, snapshotEveryHours: 1, disabledRules: ['a'], allowServers: ['srv'] }))).toBe(false);
    expect(policyChanged(p, effectivePolicy(local, null))).toBe(true);
  });

  it('hands rule switches and allow-lists to the rules engine (the one place they apply) and says when findings need evaluating again', () => {
    const p = effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['trusted', 'fp-allowed'] });
    expect(rulesOptionsOf(p)).toEqual({ disabledRules: ['unpinned-package'], allowServers: ['trusted', 'fp-allowed'] });
    expect(rulesOptionsOf(effectivePolicy(local, null))).toEqual({ disabledRules: [], allowServers: [] });
    expect(rulesPolicyChanged(p, effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['fp-allowed', 'trusted'], processPollMs: 9000 }))).toBe(false);
    expect(rulesPolicyChanged(p, effectivePolicy(local, { disabledRules: ['unpinned-package'], allowServers: ['trusted'] }))).toBe(true);
    expect(rulesPolicyChanged(p, effectivePolicy(local, { allowServers: ['trusted', 'fp-allowed'] }))).toBe(true);
  });
});
