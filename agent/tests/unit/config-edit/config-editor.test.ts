/**
 * config-edit/config-editor.ts: removing one server entry changes only that entry's bytes, in
 * JSON, JSONC with comments, YAML with comments and TOML; putting it back gives the same document;
 * bad input is refused with a code and the text unchanged.
 */
import { describe, expect, test } from '@jest/globals';
import { getAt, parseConfig, reinsertAt, removeAt, setAt } from '../../../src/config-edit/index.js';

const JSONC = `// Cursor MCP config (user)
{
  /* servers the team approved */
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"], // pinned below
      "env": { "GITHUB_TOKEN": "ghp_x" }
    },
    // risky one
    "shell": { "command": "mcp-shell", "args": [] },
    "fetch": { "url": "https://example.test/mcp" },
  },
  "other": true
}
`;

const YAML = `# Continue config
name: my assistant   # shown in the UI
models:
  - name: gpt
    provider: openai
mcpServers:
  # the shell server
  shell:
    command: mcp-shell
    args: ["--root", "/"]   # whole disk
  # a fetcher
  fetch:
    url: 'https://example.test/mcp'
rules: [a, b]
`;

const TOML = `# Codex config
model = "o3"

[mcp_servers.github]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-github"]  # floating

[mcp_servers.github.env]
GITHUB_TOKEN = "ghp_x"

[mcp_servers.shell]
command = "mcp-shell"
description = """
runs [commands]
[not.a.header]
"""

[profiles.fast]
model = "o4-mini"
`;

describe('removeAt then reinsertAt', () => {
  test('JSONC: only the entry bytes (and the comment right above it) go, other comments stay; back gives the same document', () => {
    const out = removeAt(JSONC, 'json', ['mcpServers', 'shell']);
    expect(out.value).toEqual({ command: 'mcp-shell', args: [] });
    // jsonc-parser cuts from the end of the previous property, so the entry's own comment goes with it.
    expect(out.text).toBe(JSONC.replace(`    // risky one\n    "shell": { "command": "mcp-shell", "args": [] },\n`, ''));
    const back = reinsertAt(out.text, 'json', ['mcpServers', 'shell'], out.value);
    expect(parseConfig(back, 'json')).toEqual(parseConfig(JSONC, 'json'));
    expect(back).toContain('// pinned below');
    expect(back).toContain('/* servers the team approved */');
  });

  test('plain JSON, last entry: the comma before it goes with it', () => {
    const json = '{\n\t"mcpServers": {\n\t\t"a": {"command": "x"},\n\t\t"b": {"command": "y"}\n\t}\n}\n';
    const out = removeAt(json, 'json', ['mcpServers', 'b']);
    expect(out.text).toBe('{\n\t"mcpServers": {\n\t\t"a": {"command": "x"}\n\t}\n}\n');
  });

  test('YAML: the pair\'s lines are cut, every other byte (comments, quoting, flow lists) stays', () => {
    const out = removeAt(YAML, 'yaml', ['mcpServers', 'shell']);
    expect(out.text).toBe(YAML.replace('  shell:\n    command: mcp-shell\n    args: ["--root", "/"]   # whole disk\n', ''));
    const back = reinsertAt(out.text, 'yaml', ['mcpServers', 'shell'], out.value);
    expect(parseConfig(back, 'yaml')).toEqual(parseConfig(YAML, 'yaml'));
    expect(back).toContain('# Continue config');
    expect(back).toContain('# a fetcher');
  });

  test('TOML: the table and its sub-tables are cut; a header-looking line inside a multi-line string is not a header', () => {
    const gh = removeAt(TOML, 'toml', ['mcp_servers', 'github']);
    expect(gh.text).toBe(TOML.replace(/\[mcp_servers\.github\][\s\S]*?(?=\[mcp_servers\.shell\])/, ''));
    const sh = removeAt(TOML, 'toml', ['mcp_servers', 'shell']);
    expect(sh.text).toBe(TOML.replace(/\[mcp_servers\.shell\][\s\S]*?(?=\[profiles\.fast\])/, ''));
    const back = reinsertAt(gh.text, 'toml', ['mcp_servers', 'github'], gh.value, gh.removedText);
    expect(parseConfig(back, 'toml')).toEqual(parseConfig(TOML, 'toml'));
    expect(back).toContain('# floating');
  });

  test('TOML: a one-line inline entry in its parent table', () => {
    const toml = '[mcp_servers]\na = { command = "x" }\nb = { command = "y" } # keep\n\n[other]\nk = 1\n';
    const out = removeAt(toml, 'toml', ['mcp_servers', 'a']);
    expect(out.text).toBe('[mcp_servers]\nb = { command = "y" } # keep\n\n[other]\nk = 1\n');
    expect(parseConfig(reinsertAt(out.text, 'toml', ['mcp_servers', 'a'], out.value, out.removedText), 'toml')).toEqual(parseConfig(toml, 'toml'));
  });
});

describe('refusals (coded, nothing changed)', () => {
  test('an absent entry is MCPW_ERR_CONFIG_EDIT_NOT_FOUND', () => {
    expect(() => removeAt(JSONC, 'json', ['mcpServers', 'nope'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_CONFIG_EDIT_NOT_FOUND' }));
  });

  test('a file that does not parse is MCPW_ERR_CONFIG_EDIT_NOT_FOUND', () => {
    expect(() => removeAt('{"mcpServers": {"a": ', 'json', ['mcpServers', 'a'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_CONFIG_EDIT_NOT_FOUND' }));
    expect(() => removeAt('a: [\n', 'yaml', ['a'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_CONFIG_EDIT_NOT_FOUND' }));
    expect(() => removeAt('[a\n', 'toml', ['a'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_CONFIG_EDIT_NOT_FOUND' }));
  });

  test('a TOML inline entry over several lines is MCPW_ERR_CONFIG_EDIT_UNSUPPORTED', () => {
    const toml = '[mcp_servers]\na = { command = "x", args = [\n  "y",\n] }\n';
    expect(parseConfig(toml, 'toml')).toEqual({ mcp_servers: { a: { command: 'x', args: ['y'] } } });
    expect(() => removeAt(toml, 'toml', ['mcp_servers', 'a'])).toThrow(expect.objectContaining({ code: 'MCPW_ERR_CONFIG_EDIT_UNSUPPORTED' }));
  });
});

describe('setAt (hook files)', () => {
  test('adds a nested value in each format, the rest unchanged', () => {
    const j = setAt(JSONC, 'json', ['hooks', 'PreToolUse'], [{ command: 'mcpwatch-agent hook' }]);
    expect(getAt(parseConfig(j, 'json'), ['hooks', 'PreToolUse'])).toEqual([{ command: 'mcpwatch-agent hook' }]);
    expect(j.startsWith(JSONC.slice(0, JSONC.lastIndexOf('"other"')))).toBe(true);
    const y = setAt(YAML, 'yaml', ['hooks', 'pre'], 'mcpwatch-agent hook');
    expect(getAt(parseConfig(y, 'yaml'), ['hooks', 'pre'])).toBe('mcpwatch-agent hook');
    expect(y).toContain('# shown in the UI');
    const t = setAt(TOML, 'toml', ['hooks', 'pre'], { command: 'mcpwatch-agent hook' });
    expect(t.startsWith(TOML)).toBe(true);
    expect(getAt(parseConfig(t, 'toml'), ['hooks', 'pre'])).toEqual({ command: 'mcpwatch-agent hook' });
  });
});

describe('YAML layouts the splice does not take', () => {
  test('the only entry of a mapping: removed through the Document (an empty mapping stays a mapping)', () => {
    const yaml = '# top\nextensions:\n  shell:\n    cmd: mcp-shell\nother: 1 # keep\n';
    const out = removeAt(yaml, 'yaml', ['extensions', 'shell']);
    expect(parseConfig(out.text, 'yaml')).toEqual({ extensions: {}, other: 1 });
    expect(out.text).toContain('# top');
    expect(out.text).toContain('# keep');
  });

  test('a flow mapping: removed through the Document', () => {
    const yaml = 'servers: { a: { cmd: x }, b: { cmd: y } }\n';
    const out = removeAt(yaml, 'yaml', ['servers', 'a']);
    expect(parseConfig(out.text, 'yaml')).toEqual({ servers: { b: { cmd: 'y' } } });
  });
});
