/**
 * The labelled real-config corpus (tests/fixtures/corpus/real-configs, a copy of the shared corpus
 * with its labels.json): where it is, what a label says, and the corpus files. Used by the
 * discovery and normalization corpus tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntryDialect } from '../../src/types.js';

export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/corpus/real-configs');

/** One server as the label expects it normalized. */
export interface LabelServer {
  name: string;
  transport: string;
  command: string | null;
  url: string | null;
  env_keys: string[];
  disabled: boolean;
  /** Set when the server sits in a section its client ignores (it must not be extracted). */
  section?: string;
  /** A bridge to a remote server (mcp-remote, an IDE proxy, ...). */
  bridge?: boolean;
}

/** One corpus file's label. */
export interface Label {
  file: string;
  /** Which client's format (claude-desktop, cursor, vscode, codex, ...). */
  kind: string;
  parse: 'ok' | 'jsonc' | 'malformed';
  servers: LabelServer[];
  secrets_present: boolean;
}

export const CORPUS_LABELS: readonly Label[] = JSON.parse(readFileSync(join(CORPUS, 'labels.json'), 'utf8')) as Label[];

/**
 * Each corpus kind: its client's catalog id, where its file goes in a Linux home ('project:' =
 * inside the project folder), and where its servers sit in the file (section and dialect).
 */
export const CORPUS_KINDS: Readonly<Record<string, { client: string; path: string; section: string; dialect: EntryDialect }>> = {
  'claude-desktop': { client: 'claude-desktop', path: '.config/Claude/claude_desktop_config.json', section: 'mcpServers', dialect: 'standard' },
  'claude-code-project': { client: 'claude-code', path: 'project:.mcp.json', section: 'mcpServers', dialect: 'standard' },
  cursor: { client: 'cursor', path: '.cursor/mcp.json', section: 'mcpServers', dialect: 'standard' },
  vscode: { client: 'vscode', path: 'project:.vscode/mcp.json', section: 'servers', dialect: 'standard' },
  windsurf: { client: 'windsurf', path: '.codeium/windsurf/mcp_config.json', section: 'mcpServers', dialect: 'standard' },
  gemini: { client: 'gemini-cli', path: '.gemini/settings.json', section: 'mcpServers', dialect: 'standard' },
  codex: { client: 'codex', path: '.codex/config.toml', section: 'mcp_servers', dialect: 'codex' },
  zed: { client: 'zed', path: '.config/zed/settings.json', section: 'context_servers', dialect: 'zed' },
};

/** The corpus files (NNN-<kind>.<ext>), sorted. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS).filter((f) => /^\d{3}-/.test(f)).sort();
}
