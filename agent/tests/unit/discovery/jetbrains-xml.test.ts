/**
 * JetBrains AI Assistant's options/llm.mcpServers.xml, read from real files through
 * readConfigFile (format 'xml'): both entry layouts become the mcpServers form; a malformed file,
 * or one that relies on a DTD entity, is one coded `parse` error with its position.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from '../../../src/discovery/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcpw-jbxml-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const LATER_LAYOUT = `<?xml version="1.0" encoding="UTF-8"?>
<application>
  <component name="McpApplicationServerCommands">
    <commands>
      <McpServerCommand>
        <option name="enabled" value="false" />
        <option name="name" value="nx" />
        <option name="programPath" value="npx" />
        <option name="arguments" value="-y &quot;nx-mcp@latest&quot; --dir 'C:\\My Projects'" />
        <option name="workingDirectory" value="/work" />
        <option name="env"><map><entry key="NX_TOKEN" value="t1" /></map></option>
      </McpServerCommand>
    </commands>
    <urls>
      <McpServerUrl>
        <option name="name" value="remote" />
        <option name="url" value="https://mcp.example.com/mcp" />
        <headers><header name="Authorization" value="Bearer t2" /></headers>
      </McpServerUrl>
    </urls>
    <McpServerConfigurationProperties>
      <option name="name" value="state-only" />
      <option name="enabled" value="true" />
    </McpServerConfigurationProperties>
  </component>
  <component name="SomethingElse">
    <McpServerCommand><option name="name" value="ignored" /><option name="programPath" value="x" /></McpServerCommand>
  </component>
</application>
`;

describe('llm.mcpServers.xml', () => {
  it('reads the 2025.1 layout (entries in the component, <envs>) into mcpServers', async () => {
    const p = file(
      'v1.xml',
      '<application><component name="McpApplicationServerCommands"><McpServerCommand><option name="name" value="fs" /><option name="programPath" value="npx" /><option name="arguments" value="-y @modelcontextprotocol/server-filesystem /tmp" /><envs><env name="DEBUG" value="1" /></envs></McpServerCommand></component></application>',
    );
    const r = await readConfigFile(p, { format: 'xml', client: 'jetbrains-ai-assistant' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.document).toEqual({ mcpServers: { fs: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' } } } });
  });

  it('reads the later layout (<commands>, <urls>), splits arguments quote-aware, skips state-only entries and other components', async () => {
    const r = await readConfigFile(file('v2.xml', LATER_LAYOUT), { format: 'xml' });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.document).toEqual({
      mcpServers: {
        nx: { command: 'npx', args: ['-y', 'nx-mcp@latest', '--dir', 'C:\\My Projects'], cwd: '/work', env: { NX_TOKEN: 't1' }, disabled: true },
        remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer t2' } },
      },
    });
  });

  it('reads a file without the component as an empty document', async () => {
    const r = await readConfigFile(file('other.xml', '<application><component name="Other" /></application>'), { format: 'xml' });
    expect(r).toMatchObject({ status: 'ok', document: { mcpServers: {} } });
  });

  it('reports malformed XML as one coded parse error with its line and column', async () => {
    const p = file('broken.xml', '<application>\n  <component name="McpApplicationServerCommands">\n    <option name="a" value="<" />\n</application>');
    const r = await readConfigFile(p, { format: 'xml', client: 'jetbrains-ai-assistant' });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.error).toMatchObject({ path: p, code: 'parse', client: 'jetbrains-ai-assistant', line: 3 });
    expect(r.error.reason).toMatch(/^invalid XML: .+ at line 3, column \d+$/);
  });

  it('reports mismatched tags as a parse error', async () => {
    const r = await readConfigFile(file('mismatch.xml', '<application><component></application>'), { format: 'xml' });
    expect(r).toMatchObject({ status: 'error', error: { code: 'parse' } });
  });

  it('does not expand DTD entities (no entity-expansion bomb): a file using one is a parse error', async () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE application [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<application><component name="McpApplicationServerCommands"><McpServerCommand><option name="name" value="&b;" /><option name="programPath" value="x" /></McpServerCommand></component></application>`;
    const r = await readConfigFile(file('bomb.xml', bomb), { format: 'xml' });
    expect(r.status).toBe('error');
    if (r.status !== 'error') return;
    expect(r.error.code).toBe('parse');
    expect(r.error.reason).toMatch(/entity/i);
  });
});
