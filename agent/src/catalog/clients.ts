/**
 * THE client catalog: every MCP client mcpwatch knows, where each keeps its server definitions on
 * macOS, Windows and Linux, per scope, in which format and dialect, and how its processes look.
 * This file is data; discovery (agent/src/discovery) interprets it and the process collector
 * uses the signatures. Where public sources disagree on a path, every candidate is listed.
 *
 * Sources checked (docs corpus): Claude Code MCP and plugin docs (.mcp.json at plugin root, either
 * wrapped in mcpServers or bare; plugin.json mcpServers), GitHub Copilot CLI docs (~/.copilot,
 * earlier ~/.config, XDG_CONFIG_HOME, COPILOT_HOME), Goose config docs (Windows
 * %APPDATA%\Block\goose\config\config.yaml), Amazon Q Developer docs (~/.aws/amazonq/mcp.json,
 * agents/default.json for the IDE, cli-agents/ for the CLI, workspace .amazonq/), OpenCode config
 * docs (global, OPENCODE_CONFIG, project, .opencode dir, managed dirs), Cline docs (CLI
 * ~/.cline/data/settings/cline_mcp_settings.json, CLINE_MCP_SETTINGS_PATH), Continue docs
 * (.continue/mcpServers/*.yaml and JSON files copied from other clients).
 */
import type { ConfigScope } from '@mcpwatch/shared';
import type { Platform } from '../types.js';
import type { BaseDir, ClientDefinition, ConfigLocation, ProjectSource, ServerSection } from './catalog-types.js';
import { ALL, LINUX, MAC, SERVERS_OR_MCP_SERVERS, UNIX, WIN, extensionGlobalStorage, loc, map, sig } from './location-builders.js';
import { CODEX_DESKTOP, MORE_CLIENTS } from './more-clients.js';

/** VS Code / Insiders: user mcp.json, profiles, settings.json (both spellings), workspace files. */
function vscodeLocations(userDir: string, serverDir: string, withWorkspace: boolean, flatpakId?: string): ConfigLocation[] {
  const settingsSections = [map('mcp', 'servers'), map('mcp.servers')];
  const settingsInputs = ['mcp', 'inputs'];
  const servers = [map('servers')];
  const out: ConfigLocation[] = [
    loc('user-mcp', 'user', 'appData', [userDir, 'User', 'mcp.json'], { format: 'jsonc', sections: servers, inputsPath: ['inputs'] }),
    loc('profile-mcp', 'profile', 'appData', [userDir, 'User', 'profiles', '*', 'mcp.json'], { format: 'jsonc', sections: servers, inputsPath: ['inputs'] }),
    loc('user-settings', 'user', 'appData', [userDir, 'User', 'settings.json'], { format: 'jsonc', sections: settingsSections, inputsPath: settingsInputs }),
    loc('profile-settings', 'profile', 'appData', [userDir, 'User', 'profiles', '*', 'settings.json'], {
      format: 'jsonc',
      sections: settingsSections,
      inputsPath: settingsInputs,
    }),
    loc('server-mcp', 'user', 'home', [serverDir, 'data', 'User', 'mcp.json'], { os: LINUX, format: 'jsonc', sections: servers, inputsPath: ['inputs'] }),
    ...(flatpakId
      ? [
          loc('flatpak-mcp', 'user', 'home', ['.var', 'app', flatpakId, 'config', userDir, 'User', 'mcp.json'], {
            os: LINUX,
            format: 'jsonc',
            sections: servers,
            inputsPath: ['inputs'],
          }),
          loc('flatpak-settings', 'user', 'home', ['.var', 'app', flatpakId, 'config', userDir, 'User', 'settings.json'], {
            os: LINUX,
            format: 'jsonc',
            sections: settingsSections,
            inputsPath: settingsInputs,
          }),
        ]
      : []),
    loc('server-settings', 'user', 'home', [serverDir, 'data', 'Machine', 'settings.json'], {
      os: LINUX,
      format: 'jsonc',
      sections: settingsSections,
      inputsPath: settingsInputs,
    }),
  ];
  if (withWorkspace) {
    out.push(
      // Dev containers: customizations.vscode.mcp.servers in .devcontainer/devcontainer.json.
      loc('devcontainer', 'workspace', 'project', ['.devcontainer', 'devcontainer.json'], { format: 'jsonc', sections: [map('customizations', 'vscode', 'mcp', 'servers')] }),
      // Multi-root workspace files: settings.mcp.servers, or mcp.servers at the root.
      loc('code-workspace', 'workspace', 'project', ['*.code-workspace'], { format: 'jsonc', sections: [map('settings', 'mcp', 'servers'), map('mcp', 'servers')], inputsPath: ['settings', 'mcp', 'inputs'] }),
      loc('user-home-mcp', 'user', 'home', ['.vscode', 'mcp.json'], { format: 'jsonc', sections: servers, inputsPath: ['inputs'] }),
      loc('workspace-mcp', 'workspace', 'project', ['.vscode', 'mcp.json'], { format: 'jsonc', sections: servers, inputsPath: ['inputs'] }),
      loc('workspace-settings', 'workspace', 'project', ['.vscode', 'settings.json'], {
        format: 'jsonc',
        sections: settingsSections,
        inputsPath: settingsInputs,
      }),
    );
  }
  return out;
}

/**
 * Where a VS Code family editor records workspaces: storage.json (recent / open ones) and
 * workspaceStorage/<id>/workspace.json (every workspace ever opened: `folder` or `workspace` URI;
 * https://code.visualstudio.com/docs/configure/settings#_settings-file-locations, and the
 * workspaceStorage layout VS Code's own storage service writes).
 */
function vscodeStorage(userDir: string): ProjectSource[] {
  return [
    { id: 'storage', os: ALL, base: 'appData', path: [userDir, 'User', 'globalStorage', 'storage.json'], format: 'json', kind: 'vscode-storage' },
    { id: 'workspace-storage', os: ALL, base: 'appData', path: [userDir, 'User', 'workspaceStorage', '*', 'workspace.json'], format: 'json', kind: 'vscode-workspace' },
  ];
}

/** ~/.claude.json also holds Claude Code's per-project history and grows to tens of MiB. */
const CLAUDE_JSON_MAX_BYTES = 32 * 1024 * 1024;
const CLAUDE_CODE_USER_SECTIONS: readonly ServerSection[] = [
  map('mcpServers'),
  { path: ['projects', '*', 'mcpServers'], shape: 'map', projectKeyIndex: 1, scope: 'project' },
];
const PLUGIN_MCP: readonly ServerSection[] = [{ path: ['mcpServers'], shape: 'map', rootFallback: true }];
const PLUGIN_MANIFEST: readonly ServerSection[] = [{ path: ['mcpServers'], shape: 'map', allowPathReference: true }];
/** A plugin's server files below `dir`: `mcpFiles` at its root, and mcpServers of `<manifestDir>/plugin.json`. */
function pluginLocations(id: string, base: BaseDir, dir: readonly string[], manifestDir: string, source: string, mcpFiles: readonly string[] = ['.mcp.json']): ConfigLocation[] {
  return [
    ...mcpFiles.map((file, i) => loc(`${id}-mcp${i === 0 ? '' : `-${file.replace(/\W/g, '')}`}`, 'plugin', base, [...dir, file], { sections: PLUGIN_MCP, pluginRoot: true, source })),
    loc(`${id}-manifest`, 'plugin', base, [...dir, manifestDir, 'plugin.json'], { sections: PLUGIN_MANIFEST, pluginRoot: true, source }),
  ];
}
const CLAUDE_PLUGINS_SOURCE = 'https://docs.claude.com/en/docs/claude-code/plugins-reference (.mcp.json at the plugin root or mcpServers in plugin.json, inline or a path; ${CLAUDE_PLUGIN_ROOT})';
/** A Claude Code plugin's two server files (.mcp.json, .claude-plugin/plugin.json) below `dir`. */
const claudePluginLocations = (id: string, base: BaseDir, dir: readonly string[]): ConfigLocation[] => pluginLocations(id, base, dir, '.claude-plugin', CLAUDE_PLUGINS_SOURCE);
/**
 * Codex plugins: installed copies in ~/.codex/plugins/cache/<marketplace>/<plugin>/<version>/
 * (Codex loads from the cache, not the marketplace source), .codex-plugin/plugin.json and an
 * .mcp.json at the plugin root (https://developers.openai.com/codex/plugins/build).
 */
const CODEX_PLUGINS_SOURCE = 'https://developers.openai.com/codex/plugins/build (.codex-plugin/plugin.json, .mcp.json at the plugin root; installed copies under ~/.codex/plugins/cache/<marketplace>/<plugin>/<version>/, as plugin authors document)';
/** Cursor plugins (Cursor 2.5+): ~/.cursor/plugins/local/<name>/ and ~/.cursor/plugins/cache/<marketplace>/<name>/<commit>/. */
const CURSOR_PLUGINS_SOURCE = 'Cursor plugin specification (cursor/plugins: .cursor-plugin/plugin.json, mcp.json at the plugin root); install folders ~/.cursor/plugins/local/<name> and ~/.cursor/plugins/cache/<marketplace>/<name>/<commit> as plugin installers document';
const OPENCODE_SECTIONS: readonly ServerSection[] = [{ path: ['mcp'], shape: 'map', unwrapKey: 'servers' }];
const MSIX_CLAUDE = ['Packages', 'Claude_pzs8sxrjxfjjc', 'LocalCache', 'Roaming', 'Claude'] as const;
const DXT_SECTIONS: readonly ServerSection[] = [{ path: ['server', 'mcp_config'], shape: 'single', namePath: ['name'] }];
/** Codex user config: [mcp_servers.x], and profile overlays [profiles.<name>.mcp_servers.x] (issue 14). */
const CODEX_USER_SECTIONS: readonly ServerSection[] = [map('mcp_servers'), { path: ['profiles', '*', 'mcp_servers'], shape: 'map', scope: 'profile' }];
const CONTINUE_LIST: readonly ServerSection[] = [{ path: ['mcpServers'], shape: 'list' }];
const CONTINUE_JSON: readonly ServerSection[] = [{ path: ['mcpServers'], shape: 'auto', mapDialect: 'standard' }];

function opencodeFiles(id: string, scope: ConfigScope, base: BaseDir, dir: readonly string[], os: readonly Platform[] = ALL): ConfigLocation[] {
  return (['opencode.json', 'opencode.jsonc'] as const).map((file) =>
    loc(`${id}-${file.replace('.', '-')}`, scope, base, [...dir, file], { os, format: 'jsonc', dialect: 'opencode', sections: OPENCODE_SECTIONS }),
  );
}

/** Every client, in display order. */
export const CLIENTS: readonly ClientDefinition[] = [
  {
    id: 'claude-desktop',
    displayName: 'Claude Desktop',
    locations: [
      loc('user', 'user', 'appData', ['Claude', 'claude_desktop_config.json']),
      // Microsoft Store (MSIX) install: the package's virtualised Roaming folder. The package
      // family seen in the wild is Claude_pzs8sxrjxfjjc (listed literally so it can be watched
      // as a file); the glob covers any other publisher id.
      loc('msix-known', 'user', 'localAppData', [...MSIX_CLAUDE, 'claude_desktop_config.json'], { os: WIN }),
      loc('msix', 'user', 'localAppData', ['Packages', 'Claude_*', 'LocalCache', 'Roaming', 'Claude', 'claude_desktop_config.json'], { os: WIN }),
      // Desktop Extensions (.dxt / .mcpb) unpack to Claude Extensions/<id>/manifest.json; the
      // server is manifest.server.mcp_config ({command, args, env}).
      loc('extension', 'plugin', 'appData', ['Claude', 'Claude Extensions', '*', 'manifest.json'], { sections: DXT_SECTIONS }),
      loc('msix-extension', 'plugin', 'localAppData', [...MSIX_CLAUDE, 'Claude Extensions', '*', 'manifest.json'], { os: WIN, sections: DXT_SECTIONS }),
    ],
    processes: {
      darwin: sig(['Claude'], ['/Claude\\.app/Contents/MacOS/Claude$']),
      win32: sig(['Claude.exe'], ['\\\\AnthropicClaude\\\\', '\\\\WindowsApps\\\\Claude_', '\\\\Programs\\\\Claude\\\\']),
      linux: sig(['claude-desktop'], ['/claude-desktop/', '/Claude/claude$']),
    },
  },
  {
    id: 'claude-code',
    displayName: 'Claude Code',
    locations: [
      loc('user', 'user', 'home', ['.claude.json'], { sections: CLAUDE_CODE_USER_SECTIONS, minMaxFileBytes: CLAUDE_JSON_MAX_BYTES }),
      loc('config-dir', 'user', 'env:CLAUDE_CONFIG_DIR', ['.claude.json'], { sections: CLAUDE_CODE_USER_SECTIONS, minMaxFileBytes: CLAUDE_JSON_MAX_BYTES }),
      loc('project', 'project', 'project', ['.mcp.json']),
      // Plugins: the folders installed_plugins.json records, the install cache, and the legacy
      // plugin repos (plugins/repos/<name>, before marketplaces). Marketplace checkouts
      // (plugins/marketplaces/**, known_marketplaces.json) list plugins that are available, not
      // installed; a plugin installed in place there is reached through its recorded installPath.
      // ${CLAUDE_PLUGIN_ROOT} in their entries is the plugin's folder; CLAUDE_CONFIG_DIR moves ~/.claude.
      ...claudePluginLocations('installed-plugin', 'pluginDir', []),
      ...claudePluginLocations('plugin-cache', 'home', ['.claude', 'plugins', 'cache', '**']),
      ...claudePluginLocations('config-dir-plugin-cache', 'env:CLAUDE_CONFIG_DIR', ['plugins', 'cache', '**']),
      ...claudePluginLocations('plugin-repos', 'home', ['.claude', 'plugins', 'repos', '**']),
      ...claudePluginLocations('config-dir-plugin-repos', 'env:CLAUDE_CONFIG_DIR', ['plugins', 'repos', '**']),
      loc('managed-macos', 'managed', 'system', ['Library', 'Application Support', 'ClaudeCode', 'managed-mcp.json'], { os: MAC }),
      loc('managed-linux', 'managed', 'system', ['etc', 'claude-code', 'managed-mcp.json'], { os: LINUX }),
      loc('managed-windows-programdata', 'managed', 'system', ['ProgramData', 'ClaudeCode', 'managed-mcp.json'], { os: WIN }),
      loc('managed-windows-programfiles', 'managed', 'system', ['Program Files', 'ClaudeCode', 'managed-mcp.json'], { os: WIN }),
    ],
    projectSources: [
      { id: 'projects', os: ALL, base: 'home', path: ['.claude.json'], format: 'json', kind: 'claude-projects' },
      { id: 'config-dir-projects', os: ALL, base: 'env:CLAUDE_CONFIG_DIR', path: ['.claude.json'], format: 'json', kind: 'claude-projects' },
      { id: 'installed-plugins', os: ALL, base: 'home', path: ['.claude', 'plugins', 'installed_plugins.json'], format: 'json', kind: 'claude-installed-plugins' },
      {
        id: 'config-dir-installed-plugins',
        os: ALL,
        base: 'env:CLAUDE_CONFIG_DIR',
        path: ['plugins', 'installed_plugins.json'],
        format: 'json',
        kind: 'claude-installed-plugins',
      },
    ],
    processes: {
      darwin: sig(['claude'], ['/\\.local/bin/claude$', '/claude/versions/'], ['@anthropic-ai/claude-code', '(^|/)claude( |$)']),
      win32: sig(['claude.exe'], ['\\\\\\.local\\\\bin\\\\claude\\.exe$'], ['@anthropic-ai[\\\\/]claude-code']),
      linux: sig(['claude'], ['/\\.local/bin/claude$', '/claude/versions/'], ['@anthropic-ai/claude-code', '(^|/)claude( |$)']),
    },
  },
  {
    id: 'cursor',
    displayName: 'Cursor',
    locations: [
      loc('user', 'user', 'home', ['.cursor', 'mcp.json']),
      loc('project', 'project', 'project', ['.cursor', 'mcp.json']),
      ...pluginLocations('plugins', 'home', ['.cursor', 'plugins', '**'], '.cursor-plugin', CURSOR_PLUGINS_SOURCE, ['mcp.json', '.mcp.json']),
    ],
    projectSources: vscodeStorage('Cursor'),
    processes: {
      darwin: sig(['Cursor'], ['/Cursor\\.app/Contents/MacOS/Cursor$']),
      win32: sig(['Cursor.exe'], ['\\\\cursor\\\\Cursor\\.exe$']),
      linux: sig(['cursor'], ['/cursor/cursor$', '\\.AppImage$', '/Cursor']),
    },
  },
  {
    id: 'vscode',
    displayName: 'Visual Studio Code',
    locations: vscodeLocations('Code', '.vscode-server', true, 'com.visualstudio.code'),
    projectSources: vscodeStorage('Code'),
    processes: {
      darwin: sig(['Code'], ['/Visual Studio Code\\.app/Contents/MacOS/']),
      win32: sig(['Code.exe'], ['\\\\Microsoft VS Code\\\\Code\\.exe$']),
      linux: sig(['code'], ['/usr/share/code/code$', '/snap/code/', '/opt/visual-studio-code/code$'], ['\\.vscode-server/.*/server-main\\.js']),
    },
  },
  {
    id: 'vscode-insiders',
    displayName: 'Visual Studio Code - Insiders',
    locations: vscodeLocations('Code - Insiders', '.vscode-server-insiders', false),
    projectSources: vscodeStorage('Code - Insiders'),
    processes: {
      darwin: sig(['Code - Insiders'], ['/Visual Studio Code - Insiders\\.app/Contents/MacOS/']),
      win32: sig(['Code - Insiders.exe'], ['\\\\Microsoft VS Code Insiders\\\\']),
      linux: sig(['code-insiders'], ['/code-insiders/'], ['\\.vscode-server-insiders/']),
    },
  },
  {
    id: 'vscodium',
    displayName: 'VSCodium',
    locations: vscodeLocations('VSCodium', '.vscodium-server', false, 'com.vscodium.codium'),
    projectSources: vscodeStorage('VSCodium'),
    processes: {
      darwin: sig(['VSCodium'], ['/VSCodium\\.app/Contents/MacOS/']),
      win32: sig(['VSCodium.exe'], ['\\\\VSCodium\\\\VSCodium\\.exe$']),
      linux: sig(['codium'], ['/codium/codium$', '/vscodium/'], ['\\.vscodium-server/']),
    },
  },
  {
    id: 'windsurf',
    displayName: 'Windsurf',
    locations: [
      loc('user', 'user', 'home', ['.codeium', 'windsurf', 'mcp_config.json']),
      loc('next', 'user', 'home', ['.codeium', 'windsurf-next', 'mcp_config.json']),
    ],
    projectSources: vscodeStorage('Windsurf'),
    processes: {
      darwin: sig(['Windsurf'], ['/Windsurf\\.app/Contents/MacOS/']),
      win32: sig(['Windsurf.exe'], ['\\\\Windsurf\\\\Windsurf\\.exe$']),
      linux: sig(['windsurf'], ['/windsurf/windsurf$']),
    },
  },
  {
    id: 'zed',
    displayName: 'Zed',
    locations: [
      loc('user-linux', 'user', 'xdgConfig', ['zed', 'settings.json'], { os: LINUX, format: 'jsonc', dialect: 'zed', sections: [map('context_servers')] }),
      loc('user-flatpak', 'user', 'home', ['.var', 'app', 'dev.zed.Zed', 'config', 'zed', 'settings.json'], {
        os: LINUX,
        format: 'jsonc',
        dialect: 'zed',
        sections: [map('context_servers')],
      }),
      loc('user-macos', 'user', 'home', ['.config', 'zed', 'settings.json'], { os: MAC, format: 'jsonc', dialect: 'zed', sections: [map('context_servers')] }),
      // Some integrations write the macOS settings under Application Support; listed as a candidate.
      loc('user-macos-app-support', 'user', 'appData', ['Zed', 'settings.json'], { os: MAC, format: 'jsonc', dialect: 'zed', sections: [map('context_servers')] }),
      loc('user-windows', 'user', 'appData', ['Zed', 'settings.json'], { os: WIN, format: 'jsonc', dialect: 'zed', sections: [map('context_servers')] }),
      loc('project', 'project', 'project', ['.zed', 'settings.json'], { format: 'jsonc', dialect: 'zed', sections: [map('context_servers')] }),
    ],
    processes: {
      darwin: sig(['zed', 'Zed'], ['/Zed\\.app/Contents/MacOS/']),
      win32: sig(['Zed.exe', 'zed.exe'], ['\\\\Zed\\\\']),
      linux: sig(['zed', 'zed-editor', 'zeditor'], ['/zed\\.app/', '/libexec/zed-editor$']),
    },
  },
  {
    id: 'cline',
    displayName: 'Cline',
    locations: [
      ...extensionGlobalStorage('user', 'saoudrizwan.claude-dev', ['settings', 'cline_mcp_settings.json']),
      loc('cli', 'user', 'home', ['.cline', 'data', 'settings', 'cline_mcp_settings.json']),
      loc('cli-env', 'user', 'env:CLINE_MCP_SETTINGS_PATH', []),
    ],
    hostedBy: ['vscode', 'vscode-insiders', 'cursor', 'windsurf', 'kiro'],
    processes: {
      darwin: sig(['cline'], [], ['(^|/)cline( |$)', 'cline-core']),
      win32: sig(['cline.exe'], [], ['cline-core']),
      linux: sig(['cline'], [], ['(^|/)cline( |$)', 'cline-core']),
    },
  },
  {
    id: 'roo-code',
    displayName: 'Roo Code',
    locations: [
      ...extensionGlobalStorage('user', 'rooveterinaryinc.roo-cline', ['settings', 'mcp_settings.json']),
      loc('project', 'project', 'project', ['.roo', 'mcp.json']),
    ],
    hostedBy: ['vscode', 'vscode-insiders', 'cursor', 'windsurf', 'kiro'],
    processes: {},
  },
  {
    id: 'continue',
    displayName: 'Continue',
    locations: [
      loc('user-yaml', 'user', 'home', ['.continue', 'config.yaml'], { format: 'yaml', dialect: 'continue', sections: CONTINUE_LIST }),
      loc('user-json', 'user', 'home', ['.continue', 'config.json'], {
        format: 'jsonc',
        dialect: 'continue',
        sections: [{ path: ['experimental', 'modelContextProtocolServers'], shape: 'list' }, ...CONTINUE_JSON],
      }),
      loc('user-blocks-yaml', 'user', 'home', ['.continue', 'mcpServers', '*.yaml'], { format: 'yaml', dialect: 'continue', sections: CONTINUE_LIST }),
      loc('user-blocks-yml', 'user', 'home', ['.continue', 'mcpServers', '*.yml'], { format: 'yaml', dialect: 'continue', sections: CONTINUE_LIST }),
      loc('user-blocks-json', 'user', 'home', ['.continue', 'mcpServers', '*.json'], { format: 'jsonc', dialect: 'continue', sections: CONTINUE_JSON }),
      loc('project-blocks-yaml', 'project', 'project', ['.continue', 'mcpServers', '*.yaml'], { format: 'yaml', dialect: 'continue', sections: CONTINUE_LIST }),
      loc('project-blocks-yml', 'project', 'project', ['.continue', 'mcpServers', '*.yml'], { format: 'yaml', dialect: 'continue', sections: CONTINUE_LIST }),
      loc('project-blocks-json', 'project', 'project', ['.continue', 'mcpServers', '*.json'], { format: 'jsonc', dialect: 'continue', sections: CONTINUE_JSON }),
    ],
    hostedBy: ['vscode', 'vscode-insiders', 'cursor', 'windsurf'],
    processes: {
      darwin: sig(['cn'], [], ['@continuedev/cli']),
      win32: sig(['cn.exe'], [], ['@continuedev[\\\\/]cli']),
      linux: sig(['cn'], [], ['@continuedev/cli']),
    },
  },
  {
    id: 'gemini-cli',
    displayName: 'Gemini CLI',
    locations: [
      loc('user', 'user', 'home', ['.gemini', 'settings.json'], { format: 'jsonc' }),
      loc('cli-home', 'user', 'env:GEMINI_CLI_HOME', ['.gemini', 'settings.json'], { format: 'jsonc' }),
      loc('project', 'project', 'project', ['.gemini', 'settings.json'], { format: 'jsonc' }),
      loc('extension', 'plugin', 'home', ['.gemini', 'extensions', '*', 'gemini-extension.json'], { format: 'jsonc' }),
      loc('system-linux', 'managed', 'system', ['etc', 'gemini-cli', 'settings.json'], { os: LINUX, format: 'jsonc' }),
      loc('system-macos', 'managed', 'system', ['Library', 'Application Support', 'GeminiCli', 'settings.json'], { os: MAC, format: 'jsonc' }),
      loc('system-windows', 'managed', 'system', ['ProgramData', 'gemini-cli', 'settings.json'], { os: WIN, format: 'jsonc' }),
      loc('system-env', 'managed', 'env:GEMINI_CLI_SYSTEM_SETTINGS_PATH', [], { format: 'jsonc' }),
      // System defaults (lowest precedence, but servers defined there still load).
      loc('defaults-linux', 'managed', 'system', ['etc', 'gemini-cli', 'system-defaults.json'], { os: LINUX, format: 'jsonc' }),
      loc('defaults-macos', 'managed', 'system', ['Library', 'Application Support', 'GeminiCli', 'system-defaults.json'], { os: MAC, format: 'jsonc' }),
      loc('defaults-windows', 'managed', 'system', ['ProgramData', 'gemini-cli', 'system-defaults.json'], { os: WIN, format: 'jsonc' }),
      loc('defaults-env', 'managed', 'env:GEMINI_CLI_SYSTEM_DEFAULTS_PATH', [], { format: 'jsonc' }),
    ],
    processes: {
      darwin: sig(['gemini'], [], ['@google/gemini-cli']),
      win32: sig(['gemini.exe'], [], ['@google[\\\\/]gemini-cli']),
      linux: sig(['gemini'], [], ['@google/gemini-cli']),
    },
  },
  // Before the CLI: the app's executables carry the CLI's name (see CODEX_DESKTOP).
  CODEX_DESKTOP,
  {
    id: 'codex',
    displayName: 'Codex CLI',
    locations: [
      loc('user', 'user', 'home', ['.codex', 'config.toml'], { format: 'toml', dialect: 'codex', sections: CODEX_USER_SECTIONS }),
      loc('codex-home', 'user', 'env:CODEX_HOME', ['config.toml'], { format: 'toml', dialect: 'codex', sections: CODEX_USER_SECTIONS }),
      loc('project', 'project', 'project', ['.codex', 'config.toml'], { format: 'toml', dialect: 'codex', sections: [map('mcp_servers')] }),
      // System config (issue 14): /etc/codex/config.toml, %ProgramData%\OpenAI\Codex\config.toml.
      loc('system-unix', 'managed', 'system', ['etc', 'codex', 'config.toml'], { os: UNIX, format: 'toml', dialect: 'codex', sections: [map('mcp_servers')] }),
      loc('system-windows', 'managed', 'system', ['ProgramData', 'OpenAI', 'Codex', 'config.toml'], { os: WIN, format: 'toml', dialect: 'codex', sections: [map('mcp_servers')] }),
      ...pluginLocations('plugin-cache', 'home', ['.codex', 'plugins', 'cache', '**'], '.codex-plugin', CODEX_PLUGINS_SOURCE),
      ...pluginLocations('codex-home-plugin-cache', 'env:CODEX_HOME', ['plugins', 'cache', '**'], '.codex-plugin', CODEX_PLUGINS_SOURCE),
    ],
    // [projects."<path>"] tables record trusted project roots: the same shape as ~/.claude.json's
    // `projects` (keys are folders), so their .codex/config.toml is read without a project walk.
    projectSources: [
      { id: 'projects', os: ALL, base: 'home', path: ['.codex', 'config.toml'], format: 'toml', kind: 'claude-projects' },
      { id: 'codex-home-projects', os: ALL, base: 'env:CODEX_HOME', path: ['config.toml'], format: 'toml', kind: 'claude-projects' },
    ],
    processes: {
      darwin: sig(['codex'], [], ['@openai/codex']),
      win32: sig(['codex.exe'], [], ['@openai[\\\\/]codex']),
      linux: sig(['codex'], [], ['@openai/codex']),
    },
  },
  {
    id: 'copilot-cli',
    displayName: 'GitHub Copilot CLI',
    locations: [
      loc('user', 'user', 'home', ['.copilot', 'mcp-config.json']),
      loc('copilot-home', 'user', 'env:COPILOT_HOME', ['mcp-config.json']),
      loc('xdg', 'user', 'env:XDG_CONFIG_HOME', ['.copilot', 'mcp-config.json']),
      // Earlier docs: "in the ~/.config directory ... changed by XDG_CONFIG_HOME".
      loc('xdg-legacy', 'user', 'xdgConfig', ['mcp-config.json']),
      // Repository-level config the CLI reads (issue 14); `.mcp.json` is attributed to Claude Code.
      loc('project-github', 'project', 'project', ['.github', 'mcp.json'], { sections: SERVERS_OR_MCP_SERVERS }),
    ],
    processes: {
      darwin: sig(['copilot'], [], ['@github/copilot']),
      win32: sig(['copilot.exe'], [], ['@github[\\\\/]copilot']),
      linux: sig(['copilot'], [], ['@github/copilot']),
    },
  },
  {
    id: 'amazon-q',
    displayName: 'Amazon Q Developer',
    locations: [
      loc('user', 'user', 'home', ['.aws', 'amazonq', 'mcp.json']),
      loc('ide-agents', 'user', 'home', ['.aws', 'amazonq', 'agents', '*.json']),
      loc('cli-agents', 'user', 'home', ['.aws', 'amazonq', 'cli-agents', '*.json']),
      loc('project', 'project', 'project', ['.amazonq', 'mcp.json']),
      loc('project-ide-agents', 'project', 'project', ['.amazonq', 'agents', '*.json']),
      loc('project-cli-agents', 'project', 'project', ['.amazonq', 'cli-agents', '*.json']),
    ],
    processes: {
      darwin: sig(['q', 'qchat', 'Amazon Q'], ['/Amazon Q\\.app/']),
      win32: sig(['q.exe', 'qchat.exe']),
      linux: sig(['q', 'qchat']),
    },
  },
  {
    id: 'lm-studio',
    displayName: 'LM Studio',
    locations: [
      loc('user', 'user', 'home', ['.lmstudio', 'mcp.json']),
      // Linux installs before the ~/.lmstudio move kept their home under ~/.cache/lm-studio.
      loc('user-legacy-linux', 'user', 'home', ['.cache', 'lm-studio', 'mcp.json'], { os: LINUX }),
    ],
    processes: {
      darwin: sig(['LM Studio'], ['/LM Studio\\.app/']),
      win32: sig(['LM Studio.exe'], ['\\\\LM Studio\\\\']),
      linux: sig(['lm-studio', 'LM Studio', 'lm studio'], ['LM[-_ ]Studio.*\\.AppImage', '/lm-studio/']),
    },
  },
  {
    id: 'goose',
    displayName: 'Goose',
    locations: [
      loc('user-linux', 'user', 'xdgConfig', ['goose', 'config.yaml'], { os: LINUX, format: 'yaml', dialect: 'goose', sections: [map('extensions')] }),
      loc('user-macos', 'user', 'home', ['.config', 'goose', 'config.yaml'], { os: MAC, format: 'yaml', dialect: 'goose', sections: [map('extensions')] }),
      loc('user-windows', 'user', 'appData', ['Block', 'goose', 'config', 'config.yaml'], { os: WIN, format: 'yaml', dialect: 'goose', sections: [map('extensions')] }),
    ],
    processes: {
      darwin: sig(['goose', 'goosed', 'Goose'], ['/Goose\\.app/']),
      win32: sig(['goose.exe', 'goosed.exe', 'Goose.exe']),
      linux: sig(['goose', 'goosed']),
    },
  },
  {
    id: 'opencode',
    displayName: 'OpenCode',
    locations: [
      ...opencodeFiles('user', 'user', 'xdgConfig', ['opencode']),
      // The original global file name, still read; and opencode.json(c) in the home itself, which
      // OpenCode's upward search from any project below it reaches.
      loc('user-config-json', 'user', 'xdgConfig', ['opencode', 'config.json'], { format: 'jsonc', dialect: 'opencode', sections: OPENCODE_SECTIONS }),
      ...opencodeFiles('home', 'user', 'home', []),
      loc('env', 'user', 'env:OPENCODE_CONFIG', [], { format: 'jsonc', dialect: 'opencode', sections: OPENCODE_SECTIONS }),
      ...opencodeFiles('config-dir', 'user', 'env:OPENCODE_CONFIG_DIR', []),
      ...opencodeFiles('project', 'project', 'project', []),
      ...opencodeFiles('project-dir', 'project', 'project', ['.opencode']),
      ...opencodeFiles('managed-macos', 'managed', 'system', ['Library', 'Application Support', 'opencode'], MAC),
      ...opencodeFiles('managed-linux', 'managed', 'system', ['etc', 'opencode'], LINUX),
      ...opencodeFiles('managed-windows', 'managed', 'system', ['ProgramData', 'opencode'], WIN),
    ],
    processes: {
      darwin: sig(['opencode'], [], ['opencode-ai']),
      win32: sig(['opencode.exe'], [], ['opencode-ai']),
      linux: sig(['opencode'], [], ['opencode-ai']),
    },
  },
  {
    id: 'kiro',
    displayName: 'Kiro',
    locations: [
      // Powers (issue 14): powers.mcpServers in the user file; installed powers carry an mcp.json.
      loc('user', 'user', 'home', ['.kiro', 'settings', 'mcp.json'], { sections: [map('mcpServers'), { path: ['powers', 'mcpServers'], shape: 'map', scope: 'plugin' }] }),
      loc('project', 'project', 'project', ['.kiro', 'settings', 'mcp.json']),
      loc('powers', 'plugin', 'home', ['.kiro', 'powers', 'installed', '*', 'mcp.json']),
      // Custom agent files carry their own mcpServers (user and project).
      loc('agents', 'user', 'home', ['.kiro', 'agents', '*.json']),
      loc('project-agents', 'project', 'project', ['.kiro', 'agents', '*.json']),
    ],
    projectSources: vscodeStorage('Kiro'),
    processes: {
      darwin: sig(['Kiro'], ['/Kiro\\.app/Contents/MacOS/']),
      win32: sig(['Kiro.exe'], ['\\\\Kiro\\\\Kiro\\.exe$']),
      linux: sig(['kiro'], ['/kiro/kiro$']),
    },
  },
  // Clients added for discovery coverage (issue 14), with their sources.
  ...MORE_CLIENTS,
];
