/**
 * The labelled real-config corpus (tests/fixtures/corpus/real-configs, a copy of the shared corpus with its labels) end to end through discovery: each
 * file is placed, byte for byte, at its client's path in a fresh Linux-layout home (project files
 * in a project folder found through --project-root), discover() runs on that home, and
 *  - every labelled server is found by name, and nothing else (servers the label places in a
 *    `section` the client ignores must NOT be extracted);
 *  - a malformed file yields a parse error record and no entries (never a silent zero);
 *  - each found entry normalizes (H2's normalizeEntry) to the labelled transport, command, url,
 *    env keys and disabled flag.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discover } from '../../../src/discovery/index.js';
import { normalizeEntry } from '../../../src/normalize/index.js';
import type { ScanContext } from '../../../src/types.js';
import { CORPUS, CORPUS_KINDS, CORPUS_LABELS as labels, corpusFiles, type Label } from '../../support/corpus.js';

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = mkdtempSync(join(tmpdir(), 'mcpw-corpus-'));
});
afterAll(() => {
  rmSync(tmpRoot, { recursive: true, force: true });
});

/** Places one corpus file in a fresh home; returns the scan context and the placed path. */
function placeInHome(label: Label): { ctx: ScanContext; placed: string } {
  const placement = CORPUS_KINDS[label.kind];
  if (!placement) throw new Error(`no placement for corpus kind ${label.kind}`);
  const home = join(tmpRoot, label.file.replace(/\W/g, '_'), 'home');
  const projectsDir = join(home, 'src');
  const placed = placement.path.startsWith('project:') ? join(projectsDir, 'app', placement.path.slice('project:'.length)) : join(home, placement.path);
  mkdirSync(dirname(placed), { recursive: true });
  mkdirSync(join(projectsDir, 'app'), { recursive: true });
  copyFileSync(join(CORPUS, label.file), placed);
  return { ctx: { platform: 'linux', homes: [{ user: 'corpus', home }], env: {}, projectRoots: [projectsDir], systemRoot: join(tmpRoot, 'no-system') }, placed };
}

describe('real-config corpus through discovery', () => {
  it('has a placement for every labelled kind and a label for every file', () => {
    expect(labels.map((l) => l.file).sort()).toEqual(corpusFiles());
    for (const l of labels) expect(Object.keys(CORPUS_KINDS)).toContain(l.kind);
  });

  for (const label of labels) {
    if (label.parse === 'malformed') {
      it(`${label.file}: reported as a parse error with its location, not as zero servers`, async () => {
        const { ctx, placed } = placeInHome(label);
        const result = await discover(ctx);
        const file = result.files.find((f) => f.path === placed);
        expect(file).toBeDefined();
        expect(file!.entries).toEqual([]);
        expect(file!.errors).toHaveLength(1);
        expect(file!.errors[0]).toMatchObject({ path: placed, code: 'parse', client: CORPUS_KINDS[label.kind]!.client });
        expect(file!.errors[0]!.line).toBeGreaterThanOrEqual(1);
        expect(result.clients.find((c) => c.client === CORPUS_KINDS[label.kind]!.client)).toMatchObject({ serverCount: 0, configPaths: [placed] });
      });
      continue;
    }
    it(`${label.file}: every labelled server found by name and normalized as labelled`, async () => {
      const { ctx, placed } = placeInHome(label);
      const result = await discover(ctx);
      expect(result.errors).toEqual([]);
      expect(result.files.map((f) => f.path)).toEqual([placed]);
      const file = result.files[0]!;
      expect(file.errors).toEqual([]);
      expect(file.client).toBe(CORPUS_KINDS[label.kind]!.client);
      const loaded = label.servers.filter((s) => !s.section);
      expect(file.entries.map((e) => e.name).sort()).toEqual(loaded.map((s) => s.name).sort());
      // Servers under a section the client ignores are not entries.
      for (const ignored of label.servers.filter((s) => s.section)) expect(file.entries.map((e) => e.name)).not.toContain(ignored.name);

      for (const expected of loaded) {
        const entry = file.entries.find((e) => e.name === expected.name)!;
        const n = normalizeEntry(entry);
        if (!n.ok) throw new Error(`${expected.name}: ${n.error.reason}`);
        expect({ transport: n.server.transport, command: n.server.command, url: n.server.url, envKeys: n.server.envKeys, disabled: n.server.disabled }).toEqual({
          transport: expected.transport,
          command: expected.command,
          url: expected.url,
          envKeys: [...expected.env_keys].sort(),
          disabled: expected.disabled,
        });
        expect(n.server).toMatchObject({ client: file.client, configPath: placed, name: expected.name });
      }
    });
  }
});
