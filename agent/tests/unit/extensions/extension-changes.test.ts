/**
 * extension.added|changed|removed between two scans, valid against the shared event schema, and
 * the findings: a project-level extension that runs a command; a skill or plugin whose content
 * changed without a version change (and not when the version moved with it).
 */
import type { ExtensionRecord } from '@mcpwatch/shared';
import { diffExtensions, extensionFindings } from '../../../src/extensions/extension-changes.js';
import { schemaErrors, validateEvent } from '../../helpers/schemas.js';

const H = (c: string) => c.repeat(64).slice(0, 64);
const skill = (over: Partial<ExtensionRecord> = {}): ExtensionRecord => ({
  extensionKey: 'k-skill-0001',
  client: 'claude-code',
  kind: 'skill',
  scope: 'user',
  user: 'dev',
  projectPath: null,
  path: '/home/dev/.claude/skills/pdf',
  name: 'pdf',
  version: '1.0.0',
  contentSha256: H('a'),
  fileCount: 2,
  runsCommand: true,
  ...over,
});
const hook: ExtensionRecord = {
  extensionKey: 'k-hook-0001',
  client: 'cursor',
  kind: 'hook',
  scope: 'project',
  user: null,
  projectPath: '/home/dev/code/repo',
  path: '/home/dev/code/repo/.cursor/hooks.json',
  name: 'beforeShellExecution',
  version: null,
  contentSha256: H('b'),
  fileCount: 1,
  runsCommand: true,
  hookEvent: 'beforeShellExecution',
  hookMatcher: null,
  hookCommand: './hooks/audit.sh',
};
const envelope = (type: string, data: unknown) => ({ v: 2, id: '01JABCDEFGHJKMNPQRSTVWXYZ0', type, time: '2026-12-06T17:00:00.000Z', endpointId: 'ep-1', data });

describe('diffExtensions', () => {
  it('emits added, changed and removed, each a valid version-2 event', () => {
    const changes = diffExtensions([skill(), skill({ extensionKey: 'k-gone-0001', name: 'gone' })], [skill({ contentSha256: H('c') }), hook]);
    expect(changes.map((c) => `${c.type} ${c.data.name}`)).toEqual(['extension.changed pdf', 'extension.added beforeShellExecution', 'extension.removed gone']);
    for (const c of changes) expect(`${c.type}: ${schemaErrors(validateEvent, envelope(c.type, c.data))}`).toBe(`${c.type}: `);
    expect(changes[0]!.data).toMatchObject({ previousContentSha256: H('a'), previousVersion: '1.0.0', changedWithoutVersionChange: true });
  });

  it('is quiet when nothing changed, and a version bump is not "without version change"', () => {
    expect(diffExtensions([skill()], [skill()])).toEqual([]);
    const bumped = diffExtensions([skill()], [skill({ contentSha256: H('d'), version: '1.1.0' })]);
    expect(bumped).toEqual([expect.objectContaining({ type: 'extension.changed', data: expect.objectContaining({ changedWithoutVersionChange: false }) })]);
  });

  it('rejects an extension event with a missing hash (the schema guards the wire)', () => {
    const { contentSha256: _omit, ...broken } = skill();
    expect(schemaErrors(validateEvent, envelope('extension.added', broken))).not.toBe('');
  });
});

describe('extensionFindings', () => {
  it('raises project-extension-runs-command on a project hook, not on a user skill', () => {
    const f = extensionFindings([skill(), hook]);
    expect(f.map((x) => [x.ruleId, x.severity, x.subject.client])).toEqual([['project-extension-runs-command', 'high', 'cursor']]);
    expect(f[0]!.evidence?.detail).toBe('./hooks/audit.sh');
    expect(extensionFindings([skill(), hook])[0]!.id).toBe(f[0]!.id);
  });

  it('raises extension-changed-without-version for a silent content change only', () => {
    const silent = diffExtensions([skill()], [skill({ contentSha256: H('e') })]);
    expect(extensionFindings([skill({ contentSha256: H('e') })], silent).map((x) => x.ruleId)).toEqual(['extension-changed-without-version']);
    const bumped = diffExtensions([skill()], [skill({ contentSha256: H('e'), version: '2.0.0' })]);
    expect(extensionFindings([skill({ contentSha256: H('e'), version: '2.0.0' })], bumped)).toEqual([]);
  });
});
