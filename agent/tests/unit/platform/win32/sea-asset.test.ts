/**
 * extractSeaAsset's refusals, each with a reason the process source can report: outside a SEA, an
 * asset this build does not carry, and no directory that can be written. (Extraction, reuse and
 * the rewrite of a tampered copy are covered through resolveFastlistPath in the installers' tests.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { extractSeaAsset } from '../../../../src/platform/win32/sea-asset.js';

const ASSET = Buffer.from('MZ fake winsnap');
const sea = { getAsset: (key: string) => { if (key !== 'mcpwatch/mcpwatch-winsnap.exe') throw new Error('no asset'); return ASSET.buffer.slice(ASSET.byteOffset, ASSET.byteOffset + ASSET.byteLength) as ArrayBuffer; } };

describe('extractSeaAsset', () => {
  let root: string;
  beforeEach(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-sea-asset-')); });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));
  const deps = (overrides: object = {}) => ({ sea, execPath: path.join(root, 'mcpwatch', 'mcpwatch-agent.exe'), env: { LOCALAPPDATA: path.join(root, 'local') }, homedir: () => root, ...overrides });

  it('says when the agent does not run as the single executable', () => {
    expect(extractSeaAsset('mcpwatch/mcpwatch-winsnap.exe', 'mcpwatch-winsnap.exe', { sea: undefined })).toEqual({ ok: false, reason: 'not running as the single executable (no embedded helpers)' });
  });

  it('says when this build does not carry the asset', () => {
    expect(extractSeaAsset('mcpwatch/other.exe', 'other.exe', deps())).toEqual({ ok: false, reason: 'other.exe is not embedded in this build' });
  });

  it('extracts into a directory named by the hash, and names every directory it could not write', () => {
    const ok = extractSeaAsset('mcpwatch/mcpwatch-winsnap.exe', 'mcpwatch-winsnap.exe', deps());
    expect(ok).toEqual({ ok: true, path: path.join(root, 'mcpwatch', 'assets', path.basename(path.dirname(ok.ok ? ok.path : '')), 'mcpwatch-winsnap.exe') });
    expect(ok.ok && fs.readFileSync(ok.path)).toEqual(ASSET);
    const denied = { ...fs, existsSync: () => false, mkdirSync: () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); } };
    const refused = extractSeaAsset('mcpwatch/mcpwatch-winsnap.exe', 'mcpwatch-winsnap.exe', deps({ fs: denied }));
    expect(refused).toEqual({ ok: false, reason: `mcpwatch-winsnap.exe could not be extracted (${path.join(root, 'mcpwatch', 'assets')}: EACCES; ${path.join(root, 'local', 'mcpwatch', 'assets')}: EACCES)` });
  });
});
