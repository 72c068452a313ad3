/**
 * What changed among a client's skills, hooks and plugins between two scans, as
 * `extension.added|changed|removed` event data, and the findings extensions raise (issue 14):
 * - `project-extension-runs-command` (high): a project-level hook, skill or plugin that can start
 *   a process. A repository can ship it, so anyone who lands a commit runs code on the machine of
 *   every developer who opens the project.
 * - `extension-changed-without-version` (medium): a skill or plugin whose content changed while its
 *   declared version stayed the same (a silent update, or tampering).
 * Pure: no I/O. Finding ids are stable (rule + extension key), so a re-scan raises no duplicate.
 */
import type { ExtensionChangedData, ExtensionRecord, Finding } from '@mcpwatch/shared';
import { stableId } from '@mcpwatch/shared/protocol';

export type ExtensionChange =
  | { type: 'extension.added'; data: ExtensionRecord }
  | { type: 'extension.changed'; data: ExtensionChangedData }
  | { type: 'extension.removed'; data: ExtensionRecord };

/** Events that turn `previous` into `current` (keys compared; order: added, changed, removed). */
export function diffExtensions(previous: readonly ExtensionRecord[], current: readonly ExtensionRecord[]): ExtensionChange[] {
  const before = new Map(previous.map((e) => [e.extensionKey, e]));
  const now = new Map(current.map((e) => [e.extensionKey, e]));
  const out: ExtensionChange[] = [];
  for (const e of current) {
    const old = before.get(e.extensionKey);
    if (!old) out.push({ type: 'extension.added', data: e });
    else if (old.contentSha256 !== e.contentSha256 || old.version !== e.version) {
      out.push({
        type: 'extension.changed',
        data: {
          ...e,
          previousContentSha256: old.contentSha256,
          previousVersion: old.version,
          changedWithoutVersionChange: e.kind !== 'hook' && old.contentSha256 !== e.contentSha256 && old.version === e.version,
        },
      });
    }
  }
  for (const e of previous) if (!now.has(e.extensionKey)) out.push({ type: 'extension.removed', data: e });
  return out;
}

const where = (e: ExtensionRecord): string => (e.kind === 'hook' ? `${e.path} (${e.name})` : e.path);

/** Findings on the current extensions and on the changes since the previous scan. */
export function extensionFindings(current: readonly ExtensionRecord[], changes: readonly ExtensionChange[] = []): Finding[] {
  const out: Finding[] = [];
  for (const e of current) {
    if (e.scope !== 'project' || !e.runsCommand) continue;
    out.push({
      id: stableId(['finding/v1', 'project-extension-runs-command', e.extensionKey]),
      ruleId: 'project-extension-runs-command',
      severity: 'high',
      title: `Project ${e.kind} "${e.name}" can run a command (${e.client})`.slice(0, 512),
      description:
        'A project-level hook, skill or plugin that starts a process is part of the repository: anyone who can land a commit runs code on the machine of every developer who opens the project with this client. Review it, or move it to user scope.',
      subject: { client: e.client, configPath: e.path.slice(0, 4096) },
      evidence: { field: e.kind === 'hook' ? `hooks.${e.hookEvent ?? ''}` : e.kind, kind: e.kind, detail: (e.hookCommand ?? where(e)).slice(0, 1024) },
    });
  }
  for (const c of changes) {
    if (c.type !== 'extension.changed' || !c.data.changedWithoutVersionChange) continue;
    const e = c.data;
    out.push({
      id: stableId(['finding/v1', 'extension-changed-without-version', e.extensionKey, e.contentSha256]),
      ruleId: 'extension-changed-without-version',
      severity: 'medium',
      title: `${e.kind === 'skill' ? 'Skill' : 'Plugin'} "${e.name}" changed without a version change (${e.client})`.slice(0, 512),
      description: `The content of this ${e.kind} changed while its declared version (${e.version ?? 'none'}) stayed the same: a silent update or tampering. Compare it with its source before the client loads it again.`,
      subject: { client: e.client, configPath: e.path.slice(0, 4096) },
      evidence: { kind: e.kind, detail: `sha256 ${e.previousContentSha256.slice(0, 12)}… → ${e.contentSha256.slice(0, 12)}…` },
    });
  }
  return out;
}

