/**
 * resolveFastlistPath: inside a SEA, ps-list's Windows helper comes from the embedded asset,
 * extracted once next to the executable (or under local app data), verified by SHA-256 on every
 * use; outside a SEA, or when nothing can be written, ps-list's own path is returned.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assetDirectories, fastlistAssetKey, resolveFastlistPath } from '../../scripts/sea/sea-runtime.mjs';

const NAME = 'fastlist-0.3.0-x64.exe';
const ASSET = Buffer.from('MZ fake fastlist helper bytes');

function seaWith(assets: Record<string, Buffer>) {
  return {
    getAsset(key: string): ArrayBuffer {
      const bytes = assets[key];
      if (!bytes) throw new Error(`no asset ${key}`);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

describe('resolveFastlistPath', () => {
  let root: string;
  let execPath: string;
  let localAppData: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mcpwatch-sea-runtime-'));
    execPath = path.join(root, 'Program Files', 'mcpwatch', 'mcpwatch-agent.exe');
    localAppData = path.join(root, 'LocalAppData');
    fs.mkdirSync(path.dirname(execPath), { recursive: true });
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const deps = (overrides: object = {}) => ({ sea: seaWith({ [fastlistAssetKey(NAME)]: ASSET }), execPath, env: { LOCALAPPDATA: localAppData }, homedir: () => root, ...overrides });

  it('returns ps-list\'s path outside a SEA', () => {
    expect(resolveFastlistPath(NAME, '/node_modules/ps-list/vendor/x.exe', { sea: undefined })).toBe('/node_modules/ps-list/vendor/x.exe');
  });

  it('returns ps-list\'s path when the asset is not embedded', () => {
    expect(resolveFastlistPath(NAME, 'fallback', deps({ sea: seaWith({}) }))).toBe('fallback');
  });

  it('extracts the asset next to the executable, executable, and reuses it', () => {
    const first = resolveFastlistPath(NAME, 'fallback', deps());
    expect(path.dirname(path.dirname(first))).toBe(assetDirectories({ execPath, env: {}, homedir: () => root })[0]);
    expect(fs.readFileSync(first)).toEqual(ASSET);
    expect(fs.statSync(first).mode & 0o100).toBe(0o100);
    const writes: string[] = [];
    const countingFs = { ...fs, writeFileSync: (file: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView) => { writes.push(String(file)); fs.writeFileSync(file, data); } };
    expect(resolveFastlistPath(NAME, 'fallback', deps({ fs: countingFs }))).toBe(first);
    expect(writes).toEqual([]);
  });

  it('rewrites a tampered copy before handing it out', () => {
    const target = resolveFastlistPath(NAME, 'fallback', deps());
    fs.writeFileSync(target, 'tampered');
    expect(resolveFastlistPath(NAME, 'fallback', deps())).toBe(target);
    expect(fs.readFileSync(target)).toEqual(ASSET);
  });

  it('falls back to local app data when the executable\'s directory is not writable', () => {
    const exeDir = path.dirname(execPath);
    const readOnlyExeDir = { ...fs, mkdirSync: (dir: fs.PathLike, options?: fs.MakeDirectoryOptions) => { if (String(dir).startsWith(exeDir)) throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); return fs.mkdirSync(dir, options); } };
    const target = resolveFastlistPath(NAME, 'fallback', deps({ fs: readOnlyExeDir }));
    expect(target.startsWith(path.join(localAppData, 'mcpwatch', 'assets'))).toBe(true);
    expect(fs.readFileSync(target)).toEqual(ASSET);
  });

  it('returns ps-list\'s path when nothing can be written', () => {
    const nothingWritable = { ...fs, mkdirSync: () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); } };
    expect(resolveFastlistPath(NAME, 'fallback', deps({ fs: nothingWritable }))).toBe('fallback');
  });
});
