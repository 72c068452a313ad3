/**
 * `${CLAUDE_PLUGIN_ROOT}` in a Claude Code plugin's MCP server and hook definitions (and Codex's
 * `${PLUGIN_ROOT}`): the client replaces it with the plugin's folder before it starts anything, so
 * mcpwatch does the same to see what actually runs (the script's path, its package identity).
 * Pure; never throws.
 */
import { basename, dirname } from 'node:path';

const PLUGIN_ROOT = /\$\{(?:CLAUDE_)?PLUGIN_ROOT\}/g;
/** Manifest folders of Claude Code, Codex and Cursor plugins. */
const MANIFEST_DIRS = new Set(['.claude-plugin', '.codex-plugin', '.cursor-plugin', 'hooks']);

/** The plugin folder a plugin file belongs to (`<root>/.mcp.json`, `<root>/.claude-plugin/plugin.json`, `<root>/hooks/hooks.json`). */
export function pluginRootOf(file: string): string {
  const dir = dirname(file);
  return MANIFEST_DIRS.has(basename(dir)) ? dirname(dir) : dir;
}

/** `value` with every `${CLAUDE_PLUGIN_ROOT}` in its strings replaced by `root`; the same object when none occurs. */
export function expandPluginRoot<T>(value: T, root: string, depth = 0): T {
  if (typeof value === 'string') return (value.includes('PLUGIN_ROOT}') ? value.replace(PLUGIN_ROOT, () => root) : value) as T;
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const mapped = value.map((v) => expandPluginRoot(v, root, depth + 1));
    return (mapped.some((v, i) => v !== value[i]) ? mapped : value) as T;
  }
  let changed = false;
  const out = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const e = expandPluginRoot(v, root, depth + 1);
    if (e !== v) changed = true;
    out[k] = e;
  }
  return (changed ? out : value) as T;
}
