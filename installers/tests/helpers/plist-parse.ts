/**
 * Parses XML property lists with Python's plistlib (an independent reader of Apple's format), so the
 * tests do not check the plist writer with itself.
 */
import { spawnSync } from 'node:child_process';

/** True when python3 is available to parse plists. */
export const HAS_PYTHON = spawnSync('python3', ['-c', 'import plistlib'], { stdio: 'ignore' }).status === 0;

/** Parses `xml` as a plist; throws with plistlib's message when it is not valid. */
export function parsePlist(xml: string): unknown {
  const result = spawnSync('python3', ['-c', 'import sys, json, plistlib; print(json.dumps(plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML)))'], { input: xml, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`plistlib rejected the plist: ${result.stderr}`);
  return JSON.parse(result.stdout);
}
