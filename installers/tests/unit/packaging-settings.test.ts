/**
 * The packaging pipeline's inputs and checks: settings (flags, environment, defaults), version
 * rules, the ps-list patch and the bundle's no-runtime-require check.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseSettings } from '../../scripts/package.mjs';
import { checkVersion } from '../../scripts/lib/build-info.mjs';
import { TARGETS, NODE_VERSION } from '../../scripts/lib/node-binaries.mjs';
import { findUnbundledRequires, patchPsListSource } from '../../scripts/lib/bundle-agent.mjs';
import { REPO_ROOT } from '../helpers/artifacts.js';

describe('parseSettings', () => {
  it('defaults to every target and package', () => {
    const settings = parseSettings([], {});
    expect(settings.targets).toEqual(['linux-x64', 'linux-arm64', 'win-x64', 'darwin-x64', 'darwin-arm64']);
    expect(settings.packages).toEqual(['deb', 'rpm', 'msi', 'macos']);
    expect(settings.outDir).toMatch(/installers[\\/]out$/);
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('takes flags over the environment', () => {
    const settings = parseSettings(['--targets', 'win-x64'], { MCPWATCH_PACKAGE_TARGETS: 'linux-x64', MCPWATCH_PACKAGE_KINDS: 'none' });
    expect(settings.targets).toEqual(['win-x64']);
    expect(settings.packages).toEqual([]);
  });

  it.each([
    [['--targets', 'linux-x64,solaris-sparc']],
    [['--packages', 'deb,snap']],
    [['--bogus', 'x']],
    [['positional']],
  ])('refuses %j with MCPW_ERR_PACKAGE_BAD_ARGUMENT', (argv) => {
    expect(() => parseSettings(argv, {})).toThrow(expect.objectContaining({ code: 'MCPW_ERR_PACKAGE_BAD_ARGUMENT' }));
  });
});

describe('targets', () => {
  it('names the outputs the installers expect, all from one Node version', () => {
    expect(Object.values(TARGETS).map((t) => t.output)).toEqual(['mcpwatch-agent-linux-x64', 'mcpwatch-agent-linux-arm64', 'mcpwatch-agent-win-x64.exe', 'mcpwatch-agent-darwin-x64', 'mcpwatch-agent-darwin-arm64']);
    expect(NODE_VERSION).toMatch(/^22\./);
    expect(Object.values(TARGETS).filter((t) => t.macho).map((t) => t.os)).toEqual(['darwin', 'darwin']);
  });
});

describe('checkVersion', () => {
  it('accepts MAJOR.MINOR.PATCH', () => {
    expect(checkVersion('1.2.3')).toBe('1.2.3');
  });
  it.each(['1.2', '1.2.3-beta.1', 'v1.2.3', '256.0.0', '1.2.65536', ''])('refuses "%s" (dpkg, rpm and MSI must all accept it)', (version) => {
    expect(() => checkVersion(version)).toThrow(expect.objectContaining({ code: 'MCPW_ERR_PACKAGE_BAD_CONFIG_VALUE' }));
  });
});

describe('patchPsListSource', () => {
  const source = readFileSync(path.join(REPO_ROOT, 'node_modules', 'ps-list', 'index.js'), 'utf8');

  it('routes the installed ps-list\'s fastlist path through the SEA asset resolver', () => {
    const patched = patchPsListSource(source);
    expect(patched).toContain("__mcpwatchResolveFastlist(binary, path.join(__dirname, 'vendor', binary))");
    expect(patched.split('\n')[0]).toMatch(/^import \{ resolveFastlistPath as __mcpwatchResolveFastlist \} from ".*sea-runtime\.mjs";$/);
  });

  it('fails with MCPW_ERR_PACKAGE_PATCH_NOT_APPLIED when ps-list changes shape', () => {
    expect(() => patchPsListSource(source.replace("path.join(__dirname, 'vendor', binary)", 'locateHelper(binary)'))).toThrow(expect.objectContaining({ code: 'MCPW_ERR_PACKAGE_PATCH_NOT_APPLIED' }));
  });
});

describe('findUnbundledRequires', () => {
  it('reports relative requires a single executable could not load, not built-ins', () => {
    const code = 'const a = require("node:fs"); const b = require( "./impl/format" ); const c = require(\'../x\'); const d = require("path");';
    expect(findUnbundledRequires(code)).toEqual(['./impl/format', '../x']);
  });
});
