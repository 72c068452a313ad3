/**
 * One record per VS Code tool call. VS Code runs the hooks of both `~/.copilot/hooks/*.json` and
 * `~/.claude/settings.json`, so where mcpwatch's hook is in both, two hook processes see the same
 * call (same `tool_use_id`): both answer it (the same policy decides the same way), and only the
 * one that claims the call first journals it.
 *
 * A claim is an empty file created exclusively (O_EXCL) under
 * `<stateDir>/hook-journal/calls/<10-minute bucket>/<sha256(call id, phase)>`; the first claim of a
 * new bucket deletes the older buckets, so claims never pile up. claimCall() never throws: when no
 * dir can take a claim, the call counts as claimed (a duplicate record beats a lost one).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const BUCKET_MS = 10 * 60_000;

/** true when this process is the first to claim (callId, phase) in any of `stateDirs` (first writable one). */
export function claimCall(stateDirs: readonly string[], callId: string, phase: string, nowMs: number = Date.now()): boolean {
  const name = createHash('sha256').update(`${callId}\u0000${phase}`).digest('hex').slice(0, 40);
  const bucket = String(Math.floor(nowMs / BUCKET_MS));
  for (const stateDir of stateDirs) {
    const root = path.join(stateDir, 'hook-journal', 'calls');
    try {
      const dir = path.join(root, bucket);
      let fresh = false;
      try {
        fs.mkdirSync(dir, { recursive: false });
        fresh = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          fs.mkdirSync(dir, { recursive: true });
          fresh = true;
        } else if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (fresh) for (const old of fs.readdirSync(root)) if (old !== bucket) fs.rmSync(path.join(root, old), { recursive: true, force: true });
      fs.closeSync(fs.openSync(path.join(dir, name), 'wx'));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      // not writable here: the next dir
    }
  }
  return true;
}
