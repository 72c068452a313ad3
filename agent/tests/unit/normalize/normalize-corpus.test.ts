/**
 * Normalization against the labelled real-world configs in tests/fixtures/corpus/real-configs (a copy of the shared corpus, labels included): every
 * labelled server, read with a minimal extraction (discovery's own corpus test covers finding
 * files and sections), must normalize to the labelled transport, command, url and env keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import { parse as parseToml } from 'smol-toml';
import { Value } from '@sinclair/typebox/value';
import { ServerEntry } from '@mcpwatch/shared';
import { normalizeEntry, readEntryFields } from '../../../src/normalize/index.js';
import { evaluateRules } from '../../../src/rules/index.js';
import type { ConfigFileResult, EntryDialect, RawServerEntry } from '../../../src/types.js';
import { CORPUS, CORPUS_KINDS, CORPUS_LABELS as labels, corpusFiles, type Label, type LabelServer } from '../../support/corpus.js';

function parseFile(file: string): { doc: unknown; errors: number } {
  const text = readFileSync(join(CORPUS, file), 'utf8');
  if (file.endsWith('.toml')) {
    try {
      return { doc: parseToml(text), errors: 0 };
    } catch {
      return { doc: undefined, errors: 1 };
    }
  }
  const errors: ParseError[] = [];
  const doc = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  return { doc, errors: errors.length };
}

function at(doc: unknown, dotted: string): Record<string, unknown> {
  let cur: unknown = doc;
  for (const key of dotted.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  return cur && typeof cur === 'object' ? (cur as Record<string, unknown>) : {};
}

function rawEntry(label: Label, name: string, value: unknown, dialect: EntryDialect): RawServerEntry {
  return {
    client: label.kind,
    scope: 'user',
    configPath: `/corpus/${label.file}`,
    user: null,
    projectPath: null,
    name,
    raw: value,
    dialect,
  };
}

describe('normalization of the real-config corpus', () => {
  it('covers every corpus file with a label', () => {
    expect(labels.map((l) => l.file).sort()).toEqual(corpusFiles());
  });

  for (const label of labels) {
    const kind = CORPUS_KINDS[label.kind];
    if (label.parse === 'malformed') {
      it(`${label.file}: is reported as unparsable, not as zero servers`, () => {
        const { doc, errors } = parseFile(label.file);
        expect(errors > 0 || doc === null || typeof doc !== 'object').toBe(true);
      });
      continue;
    }
    it(`${label.file}: every labelled server normalizes as labelled`, () => {
      expect(kind).toBeDefined();
      const { doc, errors } = parseFile(label.file);
      expect(errors).toBe(0);
      const dialect = kind!.dialect;
      const bySection = new Map<string, Record<string, unknown>>();
      const sectionOf = (s: LabelServer) => s.section ?? kind!.section;
      for (const s of label.servers) if (!bySection.has(sectionOf(s))) bySection.set(sectionOf(s), at(doc, sectionOf(s)));
      // The canonical section holds exactly the labelled servers (no more, no fewer).
      const canonical = label.servers.filter((s) => !s.section).map((s) => s.name).sort();
      expect(Object.keys(at(doc, kind!.section)).sort()).toEqual(canonical);

      for (const expected of label.servers) {
        const value = bySection.get(sectionOf(expected))![expected.name];
        const result = normalizeEntry(rawEntry(label, expected.name, value, dialect));
        if (!result.ok) throw new Error(`${expected.name}: ${result.error.reason}`);
        const s = result.server;
        expect({ name: s.name, transport: s.transport, command: s.command, url: s.url, env_keys: s.envKeys, disabled: s.disabled }).toEqual({
          name: expected.name,
          transport: expected.transport,
          command: expected.command,
          url: expected.url,
          env_keys: [...expected.env_keys].sort(),
          disabled: expected.disabled,
        });
        if (expected.bridge && s.remoteUrl === null) {
          // Bridges whose remote end is not a URL on the command line (IDE proxies, git sources).
          expect(s.wrapper ?? s.package?.name ?? null).not.toBeNull();
        }
        expect(Value.Check(ServerEntry, s)).toBe(true);
      }
    });

    it(`${label.file}: secret findings match the label (secrets_present: ${label.secrets_present}) and no value leaks`, () => {
      const { doc } = parseFile(label.file);
      const dialect = kind!.dialect;
      const raw = Object.entries(at(doc, kind!.section)).map(([name, value]) => rawEntry(label, name, value, dialect));
      const servers = raw.map(normalizeEntry).flatMap((r) => (r.ok ? [r.server] : []));
      const file: ConfigFileResult = {
        path: `/corpus/${label.file}`, client: label.kind, scope: 'user', user: null, projectPath: null,
        format: label.file.endsWith('.toml') ? 'toml' : 'jsonc', entries: raw, errors: [], stat: null, document: doc,
      };
      const findings = evaluateRules({ files: [file], raw, servers, platform: 'linux' });
      const secrets = findings.filter((f) => f.ruleId === 'secret-in-config');
      expect(secrets.length > 0).toBe(label.secrets_present);
      // No env value of any server (names only leave the agent) shows up in servers or findings.
      const out = JSON.stringify({ servers, findings });
      for (const r of raw) {
        for (const value of Object.values(readEntryFields(r.raw, r.dialect)?.env ?? {})) {
          if (value.length >= 12 && !/^[$/]/.test(value)) expect(out).not.toContain(value);
        }
      }
    });
  }
});
