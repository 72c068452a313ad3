/**
 * The Windows process source over fastlist (no PowerShell): captured Wine output parses to rows
 * with pid, ppid and image name (the fields fastlist lacks are null / the name); a helper that
 * fails, or lists nothing, is a coded error and never an empty list.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FASTLIST_LACKS, createFastlistProcessSource, parseFastlistOutput } from '../../../../src/platform/win32/process-source.js';

const OUTPUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/win32-output');

describe('fastlist process source (win32)', () => {
  it('turns captured Wine fastlist output into rows: pid, ppid, name; cmd is the name, the rest null', async () => {
    const entries = parseFastlistOutput(readFileSync(path.join(OUTPUT, 'wine8-fastlist.txt'), 'latin1'));
    const result = await createFastlistProcessSource(async () => entries)();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.rows.map((r) => r.name)).toEqual(['services.exe', 'explorer.exe', 'winedevice.exe', 'svchost.exe', 'plugplay.exe', 'winedevice.exe', 'fastlist-0.3.0-x64.exe']);
    expect(result.rows[1]).toEqual({ pid: 76, ppid: 60, name: 'explorer.exe', cmd: 'explorer.exe', path: null, uid: null, user: null, startedAt: null });
    expect(FASTLIST_LACKS).toEqual(['cmd', 'path', 'user', 'uid', 'startedAt']);
  });

  it('keeps names with tabs or spaces whole and drops lines without a pid', async () => {
    const entries = parseFastlistOutput('10\t4\tMy App.exe\r\nbroken line\r\n\r\n12\t10\tnode.exe\r\n');
    const result = await createFastlistProcessSource(async () => entries)();
    expect(result).toEqual({ ok: true, rows: [expect.objectContaining({ pid: 10, name: 'My App.exe' }), expect.objectContaining({ pid: 12, ppid: 10, name: 'node.exe' })] });
  });

  it('reports a failing helper and an empty listing as MCPW_ERR_PROCESS_SOURCE', async () => {
    const failing = await createFastlistProcessSource(async () => {
      throw new Error('spawn fastlist-0.3.0-x64.exe EACCES');
    })();
    expect(failing).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: 'fastlist failed: spawn fastlist-0.3.0-x64.exe EACCES' } });
    const empty = await createFastlistProcessSource(async () => [])();
    expect(empty).toMatchObject({ ok: false, error: { code: 'MCPW_ERR_PROCESS_SOURCE', message: expect.stringContaining('listed no process at all') } });
    const unusable = await createFastlistProcessSource(async () => parseFastlistOutput('garbage\r\n'))();
    expect(unusable).toMatchObject({ ok: false, error: { message: expect.stringContaining('1 line(s), none with a pid and a name') } });
  });
});
