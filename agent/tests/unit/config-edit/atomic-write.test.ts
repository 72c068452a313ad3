/**
 * config-edit/atomic-write.ts: the file is replaced with its mode kept and no temporary file left;
 * a failure (read-only directory) leaves the original untouched and throws the fs error.
 */
import { describe, expect, test, afterEach } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../../src/config-edit/index.js';

const dirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpw-atomic-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    fs.chmodSync(d, 0o700);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

describe('writeFileAtomic', () => {
  test('replaces the bytes, keeps the mode, leaves no temporary file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mcp.json');
    fs.writeFileSync(file, '{"a":1}', { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    writeFileAtomic(file, '{"a":2}');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":2}');
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir)).toEqual(['mcp.json']);
  });

  const asRoot = process.getuid?.() === 0;
  (asRoot ? test.skip : test)('a directory it may not write to: throws EACCES, the original unchanged (skipped as root, which may write anyway)', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'mcp.json');
    fs.writeFileSync(file, '{"a":1}');
    fs.chmodSync(dir, 0o500);
    expect(() => writeFileAtomic(file, '{"a":2}')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}');
  });
});
