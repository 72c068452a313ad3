/**
 * durable-file.ts: both writers replace a file whole (write a temp file, rename it over), owner-only,
 * leaving no temp file behind; writeFileAtomic skips only the fsyncs.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic, writeFileDurable } from '../../../src/spool/durable-file.js';

describe.each([
  ['writeFileDurable', writeFileDurable],
  ['writeFileAtomic', writeFileAtomic],
])('%s', (_name, write) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mcpw-durable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file owner-only and replaces it whole (a new inode: readers see old or new), no temp file left', () => {
    const file = path.join(dir, 'health.json');
    write(file, '{"a":1}');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}');
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    const before = statSync(file).ino;
    write(file, Buffer.from('{"b":2}'));
    expect(readFileSync(file, 'utf8')).toBe('{"b":2}');
    expect(statSync(file).ino).not.toBe(before);
    expect(readdirSync(dir)).toEqual(['health.json']);
  });

  it('throws the fs error when the folder is missing, and leaves an existing file as it was when the write fails', () => {
    expect(() => write(path.join(dir, 'missing', 'x.json'), 'x')).toThrow(/ENOENT/);
    const file = path.join(dir, 'kept.json');
    writeFileSync(file, 'old');
    // A directory where the temp file would go: the open fails before anything is replaced.
    const tmp = `${file}.${process.pid}.tmp`;
    mkdirSync(tmp);
    expect(() => write(file, 'new')).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
  });
});
