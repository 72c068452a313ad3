/**
 * Docker MCP Toolkit (issue 14): the servers ~/.docker/mcp/registry.yaml enables, each read as its
 * definition in ~/.docker/mcp/catalogs/*.yaml (docker-mcp.yaml first, later catalogs override), on
 * every OS's fixture home; the image is the server's package identity, secrets are named only, and
 * broken catalogs are coded errors, never a silent loss of the enabled servers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerEntry } from '@mcpwatch/shared';
import { discover, watchTargets } from '../../../src/discovery/index.js';
import { watchSpecs } from '../../../src/discovery/watch-specs.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { Platform, ScanContext } from '../../../src/types.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'homes');
const HOME_REL: Record<Platform, string> = { darwin: 'Users/alice', win32: 'Users/alice', linux: 'home/alice' };

function ctxFor(platform: Platform, home: string, systemRoot: string): ScanContext {
  return { platform, homes: [{ user: 'alice', home }], env: {}, projectRoots: [], systemRoot };
}

async function dockerServers(ctx: ScanContext): Promise<{ servers: Map<string, ServerEntry>; warnings: string[]; errors: string[] }> {
  const result = await discover(ctx);
  const servers = new Map<string, ServerEntry>();
  const warnings: string[] = [];
  for (const e of result.files.flatMap((f) => f.entries).filter((x) => x.client === 'docker-mcp-toolkit')) {
    const n = normalizeEntry(e);
    if (!n.ok) throw new Error(n.error.reason);
    servers.set(n.server.name, n.server);
    warnings.push(...n.warnings.map((w) => `${w.code} ${w.entry}`));
  }
  const errors = [...result.errors, ...result.files.flatMap((f) => f.errors)].filter((e) => e.client === 'docker-mcp-toolkit').map((e) => `${e.code} ${e.path}`);
  return { servers, warnings, errors };
}

describe.each<Platform>(['darwin', 'win32', 'linux'])('Docker MCP Toolkit on the %s fixture home', (platform) => {
  const home = join(FIXTURES, platform, HOME_REL[platform]);
  const ctx = ctxFor(platform, home, join(FIXTURES, platform, 'system'));

  it('lists the enabled servers only, each with its image or remote URL and secret names, no secret values', async () => {
    const { servers, warnings, errors } = await dockerServers(ctx);
    expect([...servers.keys()].sort()).toEqual(['docker-atlassian-remote', 'docker-duckduckgo', 'docker-github', 'docker-undefined']);
    expect(errors).toEqual([]);
    const github = servers.get('docker-github')!;
    expect(github).toMatchObject({ transport: 'stdio', command: 'docker', scope: 'user', configPath: join(home, '.docker', 'mcp', 'registry.yaml') });
    expect(github.args[github.args.length - 1]).toBe('stdio');
    expect(github.package).toMatchObject({ ecosystem: 'oci', name: 'ghcr.io/github/github-mcp-server', pinned: true, runner: 'docker' });
    expect(github.envKeys).toEqual(['GITHUB_PERSONAL_ACCESS_TOKEN', 'GITHUB_TOOLSETS']);
    // my-catalog.yaml is read after docker-mcp.yaml: its pinned image wins.
    expect(servers.get('docker-duckduckgo')!.package).toMatchObject({ name: 'mcp/duckduckgo', pinned: true, digest: 'sha256:68eb20db6109f5c312a695fc5ec3386ad15d93ffb765a0b4eb1baf4328dec14f' });
    expect(servers.get('docker-atlassian-remote')).toMatchObject({ transport: 'sse', url: 'https://mcp.atlassian.com/v1/sse', command: null, headerKeys: ['Authorization'], envKeys: ['ATLASSIAN_TOKEN'] });
    expect(servers.get('docker-undefined')).toMatchObject({ transport: 'unknown', command: null, url: null, package: null });
    expect(warnings).toEqual(['invalid-field docker-undefined']);
    expect(JSON.stringify([...servers.values()])).not.toContain('CANARY');
  });

  it('watches the catalogs folder and the settings files beside the registry', () => {
    const targets = watchTargets(ctx);
    const mcp = join(home, '.docker', 'mcp');
    expect(targets).toEqual(expect.arrayContaining([join(mcp, 'registry.yaml'), join(mcp, 'catalogs'), join(mcp, 'config.yaml'), join(mcp, 'tools.yaml')]));
    expect(watchSpecs(ctx).find((s) => s.path === join(mcp, 'catalogs'))).toEqual({ path: join(mcp, 'catalogs'), kind: 'dir', depth: 0 });
  });
});

describe('Docker MCP Toolkit catalogs that cannot be used', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'mcpw-docker-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, text: string): void => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };

  it('reports a malformed catalog and a catalog whose registry is not a map, and keeps every enabled server', async () => {
    put('.docker/mcp/registry.yaml', 'registry:\n  fetch: {ref: ""}\n  git:\n');
    put('.docker/mcp/catalogs/docker-mcp.yaml', 'registry:\n  fetch:\n    type: server\n    image: [unclosed\n');
    put('.docker/mcp/catalogs/list.yaml', 'registry:\n  - git\n');
    put('.docker/mcp/catalogs/good.yaml', 'registry:\n  git:\n    type: server\n    image: mcp/git:1.2.0\n');
    const { servers, errors } = await dockerServers(ctxFor('linux', root, join(root, 'system')));
    expect([...servers.keys()].sort()).toEqual(['fetch', 'git']);
    expect(servers.get('git')!.package).toMatchObject({ name: 'mcp/git', version: '1.2.0' });
    expect(servers.get('fetch')!.transport).toBe('unknown');
    expect(errors.sort()).toEqual([
      `invalid-section ${join(root, '.docker', 'mcp', 'catalogs', 'list.yaml')}`,
      `parse ${join(root, '.docker', 'mcp', 'catalogs', 'docker-mcp.yaml')}`,
    ]);
  });

  it('reads a registry whose entries are not objects as an entry error, and an empty registry as no servers', async () => {
    put('.docker/mcp/registry.yaml', 'registry:\n  weird: 42\n');
    const r = await discover(ctxFor('linux', root, join(root, 'system')));
    expect(r.files.flatMap((f) => f.errors).map((e) => `${e.code} ${e.entry}`)).toEqual(['invalid-entry weird']);
    put('.docker/mcp/registry.yaml', 'registry: {}\n');
    expect((await dockerServers(ctxFor('linux', root, join(root, 'system')))).servers.size).toBe(0);
  });
});
