/**
 * Types shared inside the agent between discovery (finding and parsing config files),
 * normalization, rules, process/socket collection and the scan orchestrator.
 *
 * RawServerEntry carries the entry AS WRITTEN, secret values included: it never leaves the
 * process. Everything that is stored, printed, spooled or sent is built from ServerEntry,
 * Finding, ConfigError, ProcessRecord and SocketRecord, which carry no secret values.
 */
import type { ClientRecord, ConfigError, ConfigScope, Finding, ProcessRecord, ServerEntry, SocketRecord } from '@mcpwatch/shared';

export type Platform = 'darwin' | 'win32' | 'linux';

/** One OS user's home directory. */
export interface UserHome {
  user: string;
  home: string;
  /**
   * How this home is laid out when it differs from the scan's platform: a WSL distribution's home
   * seen from Windows (\\wsl.localhost\<distro>\home\<user>) is a Linux home.
   */
  platform?: Platform;
}

/** Where and how to look. Built once by the CLI (or tests) and passed everywhere. */
export interface ScanContext {
  platform: Platform;
  /** Homes to scan: every user's home when privileged, the current user's, or --home DIR. */
  homes: UserHome[];
  /** Environment used to resolve $CLAUDE_CONFIG_DIR, $CODEX_HOME, $XDG_CONFIG_HOME, %APPDATA% ... */
  env: Record<string, string | undefined>;
  /** Extra project folders from --project-root (repeatable). */
  projectRoots: string[];
  /**
   * Prefix for system-wide (managed) locations such as /Library/Application Support/ClaudeCode or
   * C:\ProgramData\ClaudeCode. '' (the real root) in production; tests point it at a fixture dir.
   */
  systemRoot: string;
  /** Upper bound on bytes read from one config file (default 5 MiB). */
  maxFileBytes?: number;
}

/** Format of a config file. */
/** Syntax of a config file; 'xml' is JetBrains AI Assistant's options XML (discovery/jetbrains-xml.ts). */
export type ConfigFormat = 'json' | 'jsonc' | 'yaml' | 'toml' | 'xml';

/**
 * Shape of the server entries in a file, when it differs from the common
 * `{command, args, env, url, type, headers}` object. Normalization switches on it.
 */
export type EntryDialect =
  | 'standard' // {command,args,env,cwd,url|serverUrl|httpUrl,type|transport,headers,disabled}
  | 'zed' // context_servers: {command:{path,args,env}} or {command,args,env} or {url}; settings {source:"extension"}
  | 'continue' // list items {name, command, args, env, type, url} (YAML or JSON)
  | 'goose' // extensions: {type: stdio|sse|streamable_http|builtin, cmd, args, envs, env_keys, uri, enabled}
  | 'opencode' // mcp: {type: local|remote, command: string[], environment, url, headers, enabled}
  | 'codex' // [mcp_servers.x] command,args,env,url,bearer_token_env_var,http_headers,enabled
  | 'docker-mcp'; // Docker MCP Toolkit catalog server: {type: server|remote|poci, image, command[], env[{name,value}], secrets[{name,env}], remote{url,transport_type,headers}}

/** One server entry as written in a config file. Secret values included: never leaves the agent. */
export interface RawServerEntry {
  client: string;
  scope: ConfigScope;
  configPath: string;
  user: string | null;
  projectPath: string | null;
  name: string;
  /** The entry as parsed. */
  raw: unknown;
  dialect: EntryDialect;
  /** File-level context, e.g. VS Code `inputs` ids, or the section the entry sits under. */
  fileContext?: { inputIds?: string[]; section?: string };
}

/** What discovery learned from one config file that exists. */
export interface ConfigFileResult {
  path: string;
  client: string;
  scope: ConfigScope;
  user: string | null;
  projectPath: string | null;
  format: ConfigFormat;
  entries: RawServerEntry[];
  /** Parse / read / entry errors in this file (an unparsable file: one error, no entries). */
  errors: ConfigError[];
  /** Stat of the file (for permission rules); null when it could not be stat'ed. */
  stat: { mode: number; uid: number; size: number; mtimeMs: number } | null;
  /** The parsed document (values included; never leaves the agent), for file-level rules
   * such as auto-approve settings. undefined when it did not parse. */
  document?: unknown;
}

/** Output of discovery over all catalog locations. */
export interface DiscoveryResult {
  files: ConfigFileResult[];
  clients: ClientRecord[];
  /** Errors that belong to no single parsed file (an unreadable directory, ...). */
  errors: ConfigError[];
  /** Project folders that were read (recorded by clients or found under project roots);
   * pass to watchTargets() so their project-relative config paths are watched. */
  projects?: string[];
}

/** A normalized inventory of one endpoint, before findings are serialized. */
export interface InventoryParts {
  clients: ClientRecord[];
  servers: ServerEntry[];
  processes: ProcessRecord[];
  sockets: SocketRecord[];
  findings: Finding[];
  errors: ConfigError[];
}
