/**
 * Catalog entries added for issue 14 (discovery coverage): agentic clients beyond the first 19,
 * each with its config files per OS and scope, the source that documents them, and its process
 * signature. Data only; the same shapes as clients.ts (catalog-types.ts), merged into CLIENTS there.
 *
 * Sources: each client lists the pages its locations were checked against (search tool, docs and
 * code corpora, 2026-12-06). Where a path is only named by issue 14 and no public page was found,
 * the source says "issue 14 (unverified)": the location is still read (a missing file costs one
 * stat), so a real file there is never silently missed.
 *
 * Files read by more than one client (a project's `.mcp.json`) are attributed once: Claude Code
 * owns its `mcpServers`; Visual Studio owns its `servers` key (see visual-studio below), so the same
 * server is not counted twice.
 */
import type { ClientDefinition } from './catalog-types.js';
import { MAC, SERVERS_OR_MCP_SERVERS, UNIX, WIN, extensionGlobalStorage, list, loc, map, sig } from './location-builders.js';

const JETBRAINS_IDE_NAMES = ['idea', 'pycharm', 'webstorm', 'goland', 'phpstorm', 'rubymine', 'clion', 'rider', 'datagrip', 'rustrover', 'studio'];
const jetbrainsSig = (exe: (n: string) => string) => sig(JETBRAINS_IDE_NAMES.map(exe), ['JetBrains', '/Toolbox/apps/']);
/** The JetBrains IDE process hosts AI Assistant, Junie's IDE plugin, Copilot and Windsurf plugins. */
const JETBRAINS_PROCESSES = {
  darwin: sig(JETBRAINS_IDE_NAMES, ['/(IntelliJ IDEA|PyCharm|WebStorm|GoLand|PhpStorm|RubyMine|CLion|Rider|DataGrip|RustRover)[^/]*\\.app/Contents/MacOS/']),
  win32: jetbrainsSig((n) => `${n}64.exe`),
  linux: jetbrainsSig((n) => `${n}.sh`),
} as const;

/**
 * The Codex app reads the same ~/.codex/config.toml as the CLI (attributed to codex). Its main
 * executable is named Codex and its bundled agent `codex`: the CLI's name. Placed before the CLI
 * in CLIENTS (see clients.ts), so the process matcher, which takes the first signature that
 * matches, recognises the app by its bundle path first.
 */
export const CODEX_DESKTOP: ClientDefinition = {
  id: 'codex-desktop',
  displayName: 'Codex Desktop',
  sources: [
    'https://developers.openai.com/codex/plugins (the Codex app; config shared with the CLI)',
    'bundle paths as public process detectors match them: /Applications/Codex.app/Contents/MacOS/Codex (the app), /Applications/Codex.app/Contents/Resources/codex (its bundled agent, `codex app-server`); Windows Store package OpenAI.Codex (unverified)',
  ],
  locations: [],
  processes: { darwin: sig([], ['/Codex\\.app/Contents/(MacOS|Resources)/']), win32: sig([], ['\\\\OpenAI\\.Codex']) },
};

export const MORE_CLIENTS: readonly ClientDefinition[] = [
  {
    id: 'visual-studio',
    displayName: 'Visual Studio',
    sources: ['https://learn.microsoft.com/visualstudio/ide/mcp-servers (per issue 14: %USERPROFILE%\\.mcp.json, <solution>\\.vs\\mcp.json, <solution>\\.mcp.json; `servers` key)'],
    locations: [
      loc('user', 'user', 'home', ['.mcp.json'], { os: WIN, sections: SERVERS_OR_MCP_SERVERS }),
      loc('solution-vs', 'project', 'project', ['.vs', 'mcp.json'], { os: WIN, sections: SERVERS_OR_MCP_SERVERS }),
      // <solution>\.mcp.json: its `mcpServers` are Claude Code's project entries; `servers` is VS's key.
      loc('solution-mcp', 'project', 'project', ['.mcp.json'], { os: WIN, sections: [map('servers')] }),
    ],
    processes: { win32: sig(['devenv.exe'], ['\\\\Microsoft Visual Studio\\\\.*\\\\devenv\\.exe$']) },
  },
  {
    id: 'jetbrains-ai-assistant',
    displayName: 'JetBrains AI Assistant',
    sources: [
      'issue 14 (~/.ai/mcp/mcp.json, project .ai/mcp/mcp.json): YouTrack LLM-22682 (PhpStorm 2025.3, ~/.ai/mcp/mcp.json) and LLM-26654 (project .ai/mcp/mcp.json), as cited in a public scanner\'s source',
      'https://www.jetbrains.com/help/idea/directories-used-by-the-ide-to-store-settings-caches-plugins-and-logs.html#config-directory (<config>/JetBrains/<Product><Version>; Android Studio: Google/AndroidStudio<Version>)',
      'options/llm.mcpServers.xml, component McpApplicationServerCommands: YouTrack LLM-16145, LLM-22682; committed copies (WebStorm2025.3, Rider2025.2/2025.3 options)',
      '.idea/workspace.xml component McpProjectServerCommands (<commands/>, <urls/> or McpServerCommand entries), seen in committed workspace.xml files of public repositories; Rider keeps it in .idea/.idea.<Solution>/.idea/workspace.xml',
    ],
    locations: [
      loc('user', 'user', 'home', ['.ai', 'mcp', 'mcp.json']),
      loc('project', 'project', 'project', ['.ai', 'mcp', 'mcp.json']),
      // Every installed product and version has its own options folder.
      loc('ide', 'user', 'appData', ['JetBrains', '*', 'options', 'llm.mcpServers.xml'], { format: 'xml' }),
      loc('android-studio', 'user', 'appData', ['Google', 'AndroidStudio*', 'options', 'llm.mcpServers.xml'], { format: 'xml' }),
      // Project level: component McpProjectServerCommands of .idea/workspace.xml (Rider:
      // .idea/.idea.<Solution>/.idea/workspace.xml); same entry layouts as llm.mcpServers.xml.
      loc('project-workspace', 'project', 'project', ['.idea', 'workspace.xml'], { format: 'xml' }),
      loc('rider-project-workspace', 'project', 'project', ['.idea', '.idea.*', '.idea', 'workspace.xml'], { format: 'xml' }),
    ],
    processes: JETBRAINS_PROCESSES,
  },
  {
    id: 'junie',
    displayName: 'JetBrains Junie',
    sources: ['https://www.jetbrains.com/help/junie/model-context-protocol-mcp.html', 'issue 14 (~/.junie/mcp/mcp.json, .junie/mcp/mcp.json)'],
    locations: [loc('user', 'user', 'home', ['.junie', 'mcp', 'mcp.json']), loc('project', 'project', 'project', ['.junie', 'mcp', 'mcp.json'])],
    hostedBy: ['jetbrains-ai-assistant'],
    processes: { darwin: sig(['junie'], [], ['@jetbrains/junie']), win32: sig(['junie.exe'], [], ['@jetbrains[\\\\/]junie']), linux: sig(['junie'], [], ['@jetbrains/junie']) },
  },
  {
    id: 'copilot-jetbrains',
    displayName: 'GitHub Copilot for JetBrains',
    sources: [
      'https://github.com/microsoft/apm/issues/1225 (Windows %LOCALAPPDATA%\\github-copilot\\intellij\\mcp.json, `servers` key; its macOS ~/Library/Application Support and Linux ~/.local/share paths are marked unverified there)',
      'https://github.com/microsoft/copilot-for-eclipse/issues/127 (the Copilot plugins\' layout: ~/.config/github-copilot/<ide>/mcp.json on Linux/macOS, %APPDATA%\\github-copilot\\<ide>\\mcp.json on Windows)',
      'macOS/Linux paths for IntelliJ: unverified (every candidate above is read)',
    ],
    locations: [
      loc('user', 'user', 'xdgConfig', ['github-copilot', 'intellij', 'mcp.json'], { os: UNIX, sections: SERVERS_OR_MCP_SERVERS }),
      loc('user-macos-app-support', 'user', 'appData', ['github-copilot', 'intellij', 'mcp.json'], { os: MAC, sections: SERVERS_OR_MCP_SERVERS }),
      loc('user-linux-data', 'user', 'home', ['.local', 'share', 'github-copilot', 'intellij', 'mcp.json'], { os: ['linux'], sections: SERVERS_OR_MCP_SERVERS }),
      loc('user-windows', 'user', 'localAppData', ['github-copilot', 'intellij', 'mcp.json'], { os: WIN, sections: SERVERS_OR_MCP_SERVERS }),
      loc('user-windows-roaming', 'user', 'appData', ['github-copilot', 'intellij', 'mcp.json'], { os: WIN, sections: SERVERS_OR_MCP_SERVERS }),
    ],
    hostedBy: ['jetbrains-ai-assistant'],
    processes: {},
  },
  {
    id: 'windsurf-jetbrains',
    displayName: 'Windsurf plugin for JetBrains',
    sources: [
      'issue 14 (~/.codeium/mcp_config.json); a public client-integration guide (PV-Bhat/vibe-check-mcp-server docs/clients.md: "new builds ~/.codeium/mcp_config.json") names the same file; no Windsurf/JetBrains page found: unverified',
    ],
    locations: [loc('user', 'user', 'home', ['.codeium', 'mcp_config.json'])],
    hostedBy: ['jetbrains-ai-assistant'],
    processes: {},
  },
  {
    id: 'antigravity',
    displayName: 'Google Antigravity',
    sources: ['issue 14 (~/.gemini/antigravity/mcp_config.json)', 'https://mem.nowledge.co/zh-tw/integrations/google-antigravity (plugins under ~/.gemini/config/plugins)'],
    locations: [
      loc('user', 'user', 'home', ['.gemini', 'antigravity', 'mcp_config.json']),
      loc('plugin', 'plugin', 'home', ['.gemini', 'config', 'plugins', '*', '.mcp.json'], { sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] }),
    ],
    processes: {
      darwin: sig(['Antigravity'], ['/Antigravity\\.app/Contents/MacOS/']),
      win32: sig(['Antigravity.exe'], ['\\\\Antigravity\\\\Antigravity\\.exe$']),
      linux: sig(['antigravity'], ['/antigravity/antigravity$'], ['(^|/)agy( |$)']),
    },
  },
  {
    id: 'amp',
    displayName: 'Amp',
    sources: [
      'https://ampcode.com/manual (amp.mcpServers in ~/.config/amp/settings.json, %USERPROFILE%\\.config\\amp\\settings.json, managed-settings.json)',
      'public adapters that write Amp\'s files: ~/.config/amp/settings.json and project .amp/settings.json, "amp.mcpServers" one literal key with a dot (JSONC)',
    ],
    locations: [
      loc('user', 'user', 'xdgConfig', ['amp', 'settings.json'], { os: UNIX, format: 'jsonc', sections: [map('amp.mcpServers')] }),
      loc('user-windows', 'user', 'home', ['.config', 'amp', 'settings.json'], { os: WIN, format: 'jsonc', sections: [map('amp.mcpServers')] }),
      loc('project', 'project', 'project', ['.amp', 'settings.json'], { format: 'jsonc', sections: [map('amp.mcpServers')] }),
      loc('managed-macos', 'managed', 'system', ['Library', 'Application Support', 'ampcode', 'managed-settings.json'], { os: MAC, format: 'jsonc', sections: [map('amp.mcpServers')] }),
      loc('managed-linux', 'managed', 'system', ['etc', 'ampcode', 'managed-settings.json'], { os: ['linux'], format: 'jsonc', sections: [map('amp.mcpServers')] }),
      loc('managed-windows', 'managed', 'system', ['ProgramData', 'ampcode', 'managed-settings.json'], { os: WIN, format: 'jsonc', sections: [map('amp.mcpServers')] }),
    ],
    processes: { darwin: sig(['amp'], [], ['@sourcegraph/amp']), win32: sig(['amp.exe'], [], ['@sourcegraph[\\\\/]amp']), linux: sig(['amp'], [], ['@sourcegraph/amp']) },
  },
  {
    id: 'crush',
    displayName: 'Crush',
    sources: ['https://mintlify.com/charmbracelet/crush/configuration/mcp (crush.json, key `mcp`)', 'https://raw.githubusercontent.com/charmbracelet/crush/main/docs/config/README.md (newer crushrc is a bash script: not parsed)'],
    locations: [
      loc('user', 'user', 'xdgConfig', ['crush', 'crush.json'], { os: UNIX, sections: [map('mcp')] }),
      loc('user-windows', 'user', 'localAppData', ['crush', 'crush.json'], { os: WIN, sections: [map('mcp')] }),
      loc('project', 'project', 'project', ['crush.json'], { sections: [map('mcp')] }),
      loc('project-hidden', 'project', 'project', ['.crush.json'], { sections: [map('mcp')] }),
    ],
    processes: { darwin: sig(['crush']), win32: sig(['crush.exe']), linux: sig(['crush']) },
  },
  {
    id: 'factory-droid',
    displayName: 'Factory Droid',
    sources: ['https://docs.factory.ai/factory-cli/configuration/mcp', 'https://docs.factory.ai/user-guides/factory-bridge/model-context-protocol (Bridge: ~/Library/Application Support/Factory Bridge/mcp.json, %APPDATA%\\Factory Bridge\\mcp.json)'],
    locations: [
      loc('user', 'user', 'home', ['.factory', 'mcp.json']),
      loc('project', 'project', 'project', ['.factory', 'mcp.json']),
      loc('bridge', 'user', 'appData', ['Factory Bridge', 'mcp.json'], { os: [...MAC, ...WIN] }),
    ],
    processes: { darwin: sig(['droid', 'Factory Bridge']), win32: sig(['droid.exe', 'Factory Bridge.exe']), linux: sig(['droid']) },
  },
  {
    id: 'augment',
    displayName: 'Augment (Auggie CLI)',
    sources: ['https://www.augmentcode.com/changelog/auggie-cli-0-5-4-release-notes (~/.augment/settings.json)', 'https://docs.augmentcode.com/cli/integrations'],
    locations: [loc('user', 'user', 'home', ['.augment', 'settings.json'])],
    processes: { darwin: sig(['auggie'], [], ['@augmentcode/auggie']), win32: sig(['auggie.exe'], [], ['@augmentcode[\\\\/]auggie']), linux: sig(['auggie'], [], ['@augmentcode/auggie']) },
  },
  {
    id: 'trae',
    displayName: 'Trae',
    sources: [
      'https://traeide.com/news/6 (Trae 1.3.0 MCP: project .trae/mcp.json)',
      'public installers that write Trae\'s user file: <appData>/Trae/User/mcp.json (macOS Application Support, %APPDATA%, ~/.config/Trae on Linux), Trae CN/User/mcp.json, and TRAE SOLO / TRAE SOLO CN on macOS (e.g. memorix README, superpowers-mcp, brokre)',
    ],
    locations: [
      loc('user', 'user', 'appData', ['Trae', 'User', 'mcp.json']),
      loc('user-cn', 'user', 'appData', ['Trae CN', 'User', 'mcp.json']),
      loc('user-solo', 'user', 'appData', ['TRAE SOLO', 'User', 'mcp.json'], { os: MAC }),
      loc('user-solo-cn', 'user', 'appData', ['TRAE SOLO CN', 'User', 'mcp.json'], { os: MAC }),
      loc('project', 'project', 'project', ['.trae', 'mcp.json']),
    ],
    processes: { darwin: sig(['Trae', 'Trae CN'], ['/Trae( CN)?\\.app/Contents/MacOS/']), win32: sig(['Trae.exe', 'Trae CN.exe']) },
  },
  {
    id: 'kilo-code',
    displayName: 'Kilo Code',
    sources: ['https://kilo.ai/docs/automate/mcp/using-in-cli (CLI ~/.kilocode/cli/global/settings/mcp_settings.json; project .kilocode/mcp.json; VS Code globalStorage)'],
    locations: [
      ...extensionGlobalStorage('user', 'kilocode.kilo-code', ['settings', 'mcp_settings.json']),
      loc('cli', 'user', 'home', ['.kilocode', 'cli', 'global', 'settings', 'mcp_settings.json']),
      loc('project', 'project', 'project', ['.kilocode', 'mcp.json']),
    ],
    hostedBy: ['vscode', 'vscode-insiders', 'cursor', 'windsurf', 'kiro'],
    processes: { darwin: sig(['kilocode'], [], ['@kilocode/cli']), win32: sig(['kilocode.exe'], [], ['@kilocode[\\\\/]cli']), linux: sig(['kilocode'], [], ['@kilocode/cli']) },
  },
  {
    id: 'qwen-code',
    displayName: 'Qwen Code',
    sources: ['https://qwenlm.github.io/qwen-code-docs/en/users/features/mcp/ (~/.qwen/settings.json, .qwen/settings.json)', 'https://qwenlm.github.io/qwen-code-docs/1.x/en/users/mcp/ (.qwen/settings.local.json; project .mcp.json, read as Claude Code\'s)'],
    locations: [
      loc('user', 'user', 'home', ['.qwen', 'settings.json'], { format: 'jsonc' }),
      loc('project', 'project', 'project', ['.qwen', 'settings.json'], { format: 'jsonc' }),
      loc('project-local', 'project', 'project', ['.qwen', 'settings.local.json'], { format: 'jsonc' }),
    ],
    processes: { darwin: sig(['qwen'], [], ['@qwen-code/qwen-code']), win32: sig(['qwen.exe'], [], ['@qwen-code[\\\\/]qwen-code']), linux: sig(['qwen'], [], ['@qwen-code/qwen-code']) },
  },
  {
    id: 'grok-cli',
    displayName: 'Grok CLI',
    sources: ['superagent-ai/grok-cli README.md (~/.grok/user-settings.json)', 'grok-cli src/mcp/config.ts (process.cwd()/.grok/settings.json mcpServers)'],
    locations: [loc('user', 'user', 'home', ['.grok', 'user-settings.json']), loc('project', 'project', 'project', ['.grok', 'settings.json'])],
    processes: { darwin: sig(['grok'], [], ['@vibe-kit/grok-cli']), win32: sig(['grok.exe'], [], ['@vibe-kit[\\\\/]grok-cli']), linux: sig(['grok'], [], ['@vibe-kit/grok-cli']) },
  },
  {
    id: 'mistral-vibe',
    displayName: 'Mistral Vibe',
    sources: ['https://docs.mistral.ai/mistral-vibe/introduction/configuration#mcp-server-configuration ([[mcp_servers]] arrays of tables with name, transport)', 'shun095/mistral-vibe README.md (~/.vibe)'],
    locations: [
      loc('user', 'user', 'home', ['.vibe', 'config.toml'], { format: 'toml', sections: [list('mcp_servers')] }),
      loc('vibe-home', 'user', 'env:VIBE_HOME', ['config.toml'], { format: 'toml', sections: [list('mcp_servers')] }),
      loc('project', 'project', 'project', ['.vibe', 'config.toml'], { format: 'toml', sections: [list('mcp_servers')] }),
    ],
    processes: { darwin: sig(['vibe'], [], ['mistral[-_]vibe']), win32: sig(['vibe.exe'], [], ['mistral[-_]vibe']), linux: sig(['vibe'], [], ['mistral[-_]vibe']) },
  },
  {
    id: 'kimi',
    displayName: 'Kimi Code CLI',
    sources: ['https://moonshotai.github.io/kimi-code/zh/customization/mcp (~/.kimi-code/mcp.json, $KIMI_CODE_HOME/mcp.json, .kimi-code/mcp.json)', 'https://moonshotai.github.io/kimi-cli/en/reference/kimi-mcp.html (~/.kimi)'],
    locations: [
      loc('user', 'user', 'home', ['.kimi-code', 'mcp.json']),
      loc('home-env', 'user', 'env:KIMI_CODE_HOME', ['mcp.json']),
      loc('legacy', 'user', 'home', ['.kimi', 'mcp.json']),
      loc('project', 'project', 'project', ['.kimi-code', 'mcp.json']),
    ],
    processes: { darwin: sig(['kimi']), win32: sig(['kimi.exe']), linux: sig(['kimi'], [], ['kimi[-_]cli']) },
  },
  {
    id: 'hermes',
    displayName: 'Hermes Agent',
    sources: ['https://www.mintlify.com/NousResearch/hermes-agent/user-guide/features/mcp (mcp_servers in ~/.hermes/config.yaml)'],
    locations: [loc('user', 'user', 'home', ['.hermes', 'config.yaml'], { format: 'yaml', sections: [map('mcp_servers')] })],
    processes: { darwin: sig(['hermes'], [], ['hermes[-_]agent']), win32: sig(['hermes.exe'], [], ['hermes[-_]agent']), linux: sig(['hermes'], [], ['hermes[-_]agent']) },
  },
  {
    id: 'rovo-dev',
    displayName: 'Rovo Dev CLI',
    sources: ['https://support.atlassian.com/rovo/docs/connect-to-an-mcp-server-in-rovo-dev-cli (~/.rovodev/mcp.json, mcpServers)', 'https://docs.pieces.app/products/mcp/rovo-dev-cli (the same file written with `servers`)'],
    locations: [loc('user', 'user', 'home', ['.rovodev', 'mcp.json'], { sections: SERVERS_OR_MCP_SERVERS })],
    processes: { darwin: sig([], [], ['acli.* rovodev']), win32: sig([], [], ['acli(\\.exe)?.* rovodev']), linux: sig([], [], ['acli.* rovodev']) },
  },
  {
    id: 'mcporter',
    displayName: 'MCPorter',
    sources: ['https://raw.githubusercontent.com/openclaw/mcporter/HEAD/docs/config.md (config/mcporter.json, baseUrl)', 'https://github.com/openclaw/mcporter/releases/tag/v0.6.0 (~/.mcporter/mcporter.json[c], MCPORTER_CONFIG)'],
    locations: [
      loc('user', 'user', 'home', ['.mcporter', 'mcporter.json'], { format: 'jsonc' }),
      loc('user-jsonc', 'user', 'home', ['.mcporter', 'mcporter.jsonc'], { format: 'jsonc' }),
      loc('env', 'user', 'env:MCPORTER_CONFIG', [], { format: 'jsonc' }),
      loc('project', 'project', 'project', ['config', 'mcporter.json'], { format: 'jsonc' }),
    ],
    processes: { darwin: sig(['mcporter'], [], ['(^|/)mcporter( |$)']), win32: sig(['mcporter.exe'], [], ['[\\\\/]mcporter[\\\\/]']), linux: sig(['mcporter'], [], ['(^|/)mcporter( |$)']) },
  },
  {
    id: 'pi',
    displayName: 'Pi coding agent (pi-mcp-adapter)',
    sources: ['https://raw.githubusercontent.com/K-Dense-AI/scientific-agent-skills/HEAD/skills/pi-agent/references/pi-mcp-adapter.md (precedence: ~/.config/mcp/mcp.json, ~/.agents/mcp.json, ~/.agents/mcp/mcp.json, ~/.pi/agent/mcp.json or $PI_CODING_AGENT_DIR/mcp.json, .mcp.json, .pi/mcp.json)'],
    locations: [
      loc('user', 'user', 'home', ['.pi', 'agent', 'mcp.json']),
      loc('agent-dir', 'user', 'env:PI_CODING_AGENT_DIR', ['mcp.json']),
      loc('shared-config', 'user', 'home', ['.config', 'mcp', 'mcp.json']),
      loc('shared-agents', 'user', 'home', ['.agents', 'mcp.json']),
      loc('shared-agents-dir', 'user', 'home', ['.agents', 'mcp', 'mcp.json']),
      loc('project', 'project', 'project', ['.pi', 'mcp.json']),
    ],
    processes: { darwin: sig(['pi'], [], ['@earendil-works/pi-coding-agent', '@mariozechner/pi-coding-agent']), win32: sig(['pi.exe'], [], ['pi-coding-agent']), linux: sig(['pi'], [], ['@earendil-works/pi-coding-agent', '@mariozechner/pi-coding-agent']) },
  },
  {
    id: 'anythingllm',
    displayName: 'AnythingLLM Desktop',
    sources: [
      'AnythingLLM docs, MCP compatibility: storage/plugins/anythingllm_mcp_servers.json (the server logs "MCP Config File: .../storage/plugins/anythingllm_mcp_servers.json"); desktop storage under ~/Library/Application Support/anythingllm-desktop, %APPDATA%\\anythingllm-desktop, ~/.config/anythingllm-desktop as public guides give it; entries may sit at the root',
    ],
    locations: [loc('user', 'user', 'appData', ['anythingllm-desktop', 'storage', 'plugins', 'anythingllm_mcp_servers.json'], { sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] })],
    processes: { darwin: sig(['AnythingLLM'], ['/AnythingLLM\\.app/']), win32: sig(['AnythingLLM.exe']), linux: sig(['anythingllm-desktop'], ['AnythingLLMDesktop.*\\.AppImage']) },
  },
  {
    id: 'warp',
    displayName: 'Warp',
    sources: [
      'https://docs.warp.dev/agent-platform/capabilities/mcp (warpdotdev/docs PR 10: file-based servers in ~/.warp/.mcp.json and {repo_root}/.warp/.mcp.json)',
      'https://mintlify.wiki/warpdotdev/warp/agent/mcp-servers (home and project paths per provider)',
    ],
    locations: [
      loc('user', 'user', 'home', ['.warp', '.mcp.json'], { sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] }),
      loc('project', 'project', 'project', ['.warp', '.mcp.json'], { sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] }),
    ],
    processes: {
      darwin: sig([], ['/Warp\\.app/Contents/MacOS/']), // its executable is named `stable`: matched by path only
      win32: sig(['warp.exe'], ['\\\\Warp\\\\warp\\.exe$']),
      linux: sig(['warp-terminal', 'warp'], ['/opt/warpdotdev/']),
    },
  },
  {
    id: 'devin-cli',
    displayName: 'Devin for Terminal (Devin CLI)',
    sources: [
      'https://cli.devin.ai/docs/extensibility/mcp/configuration (~/.config/devin/config.json; %APPDATA%\\devin\\config.json; .devin/config.json, .devin/config.local.json)',
      'https://cli.devin.ai/docs/extensibility/index (earlier builds: ~/.config/cognition/, .cognition/config.json, .cognition/config.local.json)',
    ],
    locations: [
      loc('user', 'user', 'xdgConfig', ['devin', 'config.json'], { os: UNIX, format: 'jsonc' }),
      loc('user-windows', 'user', 'appData', ['devin', 'config.json'], { os: WIN, format: 'jsonc' }),
      loc('legacy-user', 'user', 'xdgConfig', ['cognition', 'config.json'], { os: UNIX, format: 'jsonc' }),
      loc('project', 'project', 'project', ['.devin', 'config.json'], { format: 'jsonc' }),
      loc('project-local', 'project', 'project', ['.devin', 'config.local.json'], { format: 'jsonc' }),
      loc('legacy-project', 'project', 'project', ['.cognition', 'config.json'], { format: 'jsonc' }),
      loc('legacy-project-local', 'project', 'project', ['.cognition', 'config.local.json'], { format: 'jsonc' }),
    ],
    processes: { darwin: sig(['devin'], ['/\\.devin/bin/devin$']), win32: sig(['devin.exe']), linux: sig(['devin'], ['/\\.devin/bin/devin$']) },
  },
  {
    // Windsurf renamed (2026): its MCP file stays ~/.codeium/windsurf/mcp_config.json, read as the
    // windsurf client's; this entry only recognises the renamed app's processes.
    id: 'devin-desktop',
    displayName: 'Devin Desktop (formerly Windsurf)',
    sources: [
      'https://hussamahmedweb.pages.dev/ai/ide-agents/windsurf-cascade (Windsurf rebranded Devin Desktop; MCP in ~/.codeium/windsurf/mcp_config.json)',
      'bundles as public detectors match them: Devin.app or Devin Desktop.app (bundle id com.cognition.devin), C:\\Program Files\\Devin Desktop, /usr/share/devin-desktop; hooks stay ~/.codeium/windsurf/hooks.json (read as windsurf\'s)',
    ],
    locations: [],
    processes: {
      darwin: sig(['Devin Desktop'], ['/Devin( Desktop)?\\.app/Contents/MacOS/']),
      win32: sig(['Devin Desktop.exe'], ['\\\\Devin( Desktop)?\\\\Devin( Desktop)?\\.exe$']),
      linux: sig(['devin-desktop'], ['/devin-desktop/']),
    },
  },
  {
    id: 'qoder',
    displayName: 'Qoder',
    sources: [
      'https://docs.qoder.com/qoderwork/mcp (mcpServers JSON, added in settings)',
      'public installers and scanners that write Qoder\'s files: ~/.qoder/mcp.json, <appData>/Qoder/User/mcp.json (%APPDATA% on Windows, ~/.config on Linux), QoderCN/User/mcp.json and, on macOS, Qoder/SharedClientCache/mcp.json; project .qoder/mcp.json (graphflow changelog 1.7.5, superpowers-mcp, a Rust installer\'s qoder_mcp_paths)',
    ],
    locations: [
      loc('home', 'user', 'home', ['.qoder', 'mcp.json']),
      loc('user', 'user', 'appData', ['Qoder', 'User', 'mcp.json']),
      loc('user-cn', 'user', 'appData', ['QoderCN', 'User', 'mcp.json']),
      loc('shared-cache', 'user', 'appData', ['Qoder', 'SharedClientCache', 'mcp.json'], { os: MAC }),
      loc('project', 'project', 'project', ['.qoder', 'mcp.json']),
    ],
    processes: { darwin: sig(['Qoder', 'qodercli'], ['/Qoder\\.app/Contents/MacOS/']), win32: sig(['Qoder.exe', 'qodercli.exe']), linux: sig(['qoder', 'qodercli']) },
  },
  {
    id: 'tabnine',
    displayName: 'Tabnine (Agent and CLI)',
    sources: [
      'https://docs.tabnine.com/main/getting-started/tabnine-agent/mcp-intro-and-setup (~/.tabnine/mcp_servers.json, <project>/.tabnine/mcp_servers.json)',
      'https://docs.tabnine.com/main/getting-started/tabnine-cli/features/mcp-server-config (~/.tabnine/agent/settings.json, <project>/.tabnine/agent/settings.json, /Library/Application Support/TabnineCli/settings.json, /etc/tabnine-cli/settings.json)',
    ],
    locations: [
      loc('user', 'user', 'home', ['.tabnine', 'mcp_servers.json']),
      loc('project', 'project', 'project', ['.tabnine', 'mcp_servers.json']),
      loc('cli-user', 'user', 'home', ['.tabnine', 'agent', 'settings.json'], { format: 'jsonc' }),
      loc('cli-project', 'project', 'project', ['.tabnine', 'agent', 'settings.json'], { format: 'jsonc' }),
      loc('cli-system-macos', 'managed', 'system', ['Library', 'Application Support', 'TabnineCli', 'settings.json'], { os: MAC, format: 'jsonc' }),
      loc('cli-system-linux', 'managed', 'system', ['etc', 'tabnine-cli', 'settings.json'], { os: ['linux'], format: 'jsonc' }),
    ],
    hostedBy: ['vscode', 'jetbrains-ai-assistant'],
    processes: { darwin: sig(['tabnine']), win32: sig(['tabnine.exe']), linux: sig(['tabnine']) },
  },
  {
    id: 'boltai',
    displayName: 'BoltAI',
    sources: ['https://docs.boltai.com/docs/plugins/mcp-servers#faqs (~/.boltai/mcp.json, mcpServers; cited by public MCP installers\' client tables)'],
    locations: [loc('user', 'user', 'home', ['.boltai', 'mcp.json'], { os: MAC })],
    processes: { darwin: sig(['BoltAI'], ['/BoltAI\\.app/Contents/MacOS/']) },
  },
  {
    id: 'jan',
    displayName: 'Jan',
    sources: [
      'https://jan.ai/docs/desktop/integrations/mcp-servers (Settings → MCP Servers)',
      'the Jan data folder\'s mcp_config.json as public tools read it: ~/Library/Application Support/Jan/data (macOS), %APPDATA%\\Jan\\data (Windows), ~/.local/share/Jan/data (Linux default) and ~/.config/Jan/data; `mcpServers` map, some write the entries at the root',
    ],
    locations: [
      loc('user', 'user', 'appData', ['Jan', 'data', 'mcp_config.json'], { sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] }),
      loc('user-linux-data', 'user', 'home', ['.local', 'share', 'Jan', 'data', 'mcp_config.json'], { os: ['linux'], sections: [{ path: ['mcpServers'], shape: 'map', rootFallback: true }] }),
    ],
    processes: { darwin: sig(['Jan'], ['/Jan\\.app/Contents/MacOS/']), win32: sig(['Jan.exe']), linux: sig(['jan'], ['Jan.*\\.AppImage']) },
  },
  {
    id: 'witsy',
    displayName: 'Witsy',
    sources: [
      'Electron userData Witsy/settings.json (macOS Application Support, %APPDATA%, ~/.config/Witsy) as public MCP installers write it (`mcpServers` map, smithery-style) and Witsy\'s own list mcp.servers; com.nbonamy.witsy on macOS as a candidate',
    ],
    locations: [
      loc('user', 'user', 'appData', ['Witsy', 'settings.json'], { sections: [list('mcp', 'servers'), map('mcpServers')] }),
      loc('user-bundle-id', 'user', 'appData', ['com.nbonamy.witsy', 'settings.json'], { os: MAC, sections: [list('mcp', 'servers'), map('mcpServers')] }),
    ],
    processes: { darwin: sig(['Witsy'], ['/Witsy\\.app/Contents/MacOS/']), win32: sig(['Witsy.exe']), linux: sig(['witsy']) },
  },
  {
    id: 'sema4ai',
    displayName: 'Sema4.ai Studio',
    sources: ['issue 14; no config location found in public pages (unverified): process signatures only'],
    locations: [],
    processes: { darwin: sig(['Sema4.ai Studio'], ['/Sema4\\.ai Studio\\.app/']), win32: sig(['Sema4.ai Studio.exe']), linux: sig(['sema4ai-studio']) },
  },
  {
    id: 'open-interpreter',
    displayName: 'Open Interpreter',
    sources: ['issue 14; no MCP config file found in public pages (unverified): process signatures only (pip package open-interpreter, command interpreter)'],
    locations: [],
    processes: {
      darwin: sig(['interpreter'], [], ['(^|/)interpreter( |$)', 'open[-_]interpreter']),
      win32: sig(['interpreter.exe'], [], ['open[-_]interpreter']),
      linux: sig(['interpreter'], [], ['(^|/)interpreter( |$)', 'open[-_]interpreter']),
    },
  },
  {
    // registry.yaml enables servers by name ({registry: {<name>: {ref, config}}}); their definitions
    // (image, command, env, secrets by name, remote URL) sit in catalogs/*.yaml ({registry: {<name>:
    // Server}}), docker-mcp.yaml first, a later catalog overriding an earlier one as the gateway
    // merges them. config.yaml (per-server settings) and tools.yaml (enabled tool names) hold no
    // server definitions: watched, not read into entries. Secrets live in Docker's secret store and
    // are referenced by name only. Profiles (working sets) are read from the SQLite mcp-toolkit.db.
    id: 'docker-mcp-toolkit',
    displayName: 'Docker MCP Toolkit',
    sources: [
      'https://docs.docker.com/ai/mcp-catalog-and-toolkit/get-started/ (MCP Toolkit)',
      'docker/mcp-gateway pkg/config/readwrite.go (FilePath: ~/.docker/mcp/<name>; registry.yaml, config.yaml, tools.yaml, catalogs/<name>.yaml, catalog.json), pkg/config/registry.go (registry: {name: {ref, config}}), pkg/catalog/types.go (Server: type, image, command, env, secrets, remote), pkg/catalog/catalog.go (docker-mcp.yaml default; later catalogs overwrite), cmd/docker-mcp/commands/gateway.go (setLegacyDefaults)',
      'docker/mcp-gateway pkg/db/db.go (~/.docker/mcp/mcp-toolkit.db), pkg/db/workingset.go and migrations/001_initial.up.sql (working_set: name, servers JSON [{type, image, endpoint, snapshot: {server}}]), pkg/workingset/workingset.go (servers named by snapshot.server.name)',
    ],
    locations: [
      loc('registry', 'user', 'home', ['.docker', 'mcp', 'registry.yaml'], {
        format: 'yaml',
        dialect: 'docker-mcp',
        sections: [map('registry')],
        definitions: { path: ['.docker', 'mcp', 'catalogs', '*.yaml'], format: 'yaml', section: ['registry'], first: 'docker-mcp.yaml' },
      }),
      // Profiles (working sets, the gateway's feature-flagged successor of registry.yaml): SQLite.
      loc('profiles', 'profile', 'home', ['.docker', 'mcp', 'mcp-toolkit.db'], {
        dialect: 'docker-mcp',
        reader: 'docker-profiles',
        sections: [{ path: ['profiles', '*', 'servers'], shape: 'map' }],
        minMaxFileBytes: 64 * 1024 * 1024,
      }),
      // Not read into entries (no server definitions), listed so a change to them is watched.
      loc('server-config', 'user', 'home', ['.docker', 'mcp', 'config.yaml'], { format: 'yaml', sections: [] }),
      loc('tools', 'user', 'home', ['.docker', 'mcp', 'tools.yaml'], { format: 'yaml', sections: [] }),
    ],
    processes: { darwin: sig(['docker-mcp'], [], ['docker(-mcp)? mcp gateway run', 'docker-mcp gateway']), win32: sig(['docker-mcp.exe'], [], ['docker(\\.exe)? mcp gateway run']), linux: sig(['docker-mcp'], [], ['docker(-mcp)? mcp gateway run', 'docker-mcp gateway']) },
  },
];
