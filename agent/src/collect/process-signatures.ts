/**
 * How MCP client processes look, and name patterns of MCP server processes that are not in any
 * config. Client signatures come from the catalog (one place); this module only applies them.
 */

import { splitCommandLine } from './process-command-line.js';

/**
 * A client's process signature for one OS, with its patterns compiled (the catalog's
 * processSignatures(platform) gives these).
 */
export interface ClientProcessSignature {
  /** Catalog id (claude-desktop, cursor, ...). */
  client: string;
  /** Executable base names (case-insensitive, without .exe). */
  names: readonly string[];
  /** Tested against the executable path as the OS writes it. */
  pathPatterns: readonly RegExp[];
  /** Tested against the full command line. */
  cmdlinePatterns: readonly RegExp[];
  /** Clients whose processes run this one (an editor extension such as Cline has none of its own). */
  hostedBy?: readonly string[];
}

/** What a process looks like to the matcher. */
export interface ProcessLook {
  name: string;
  cmd: string;
  path?: string | null;
}

/** The client id whose signature matches, or null. */
export function matchClientSignature(look: ProcessLook, signatures: readonly ClientProcessSignature[]): string | null {
  const name = stripExe(look.name);
  const exePath = look.path || '';
  const exe = exePath ? stripExe(exePath.split(/[\\/]/).pop() ?? '') : null;
  // argv[0] as the process was started (a symlinked or renamed launcher keeps its name there).
  const argv0 = stripExe((splitCommandLine(look.cmd)[0] ?? '').split(/[\\/]/).pop() ?? '');
  for (const sig of signatures) {
    if (sig.names.some((n) => [name, exe, argv0].includes(stripExe(n)))) return sig.client;
    if (exePath && sig.pathPatterns.some((re) => re.test(exePath))) return sig.client;
    if (sig.cmdlinePatterns.some((re) => re.test(look.cmd))) return sig.client;
  }
  return null;
}

function stripExe(name: string): string {
  return name.toLowerCase().replace(/\.exe$/, '');
}

/**
 * Command lines that are MCP servers by name even when no config names them:
 * `@modelcontextprotocol/*`, `mcp-server-*`, `*-mcp-server`, `mcp-remote`, docker images `mcp/*`.
 */
export const SERVER_NAME_PATTERNS: readonly RegExp[] = [
  /@modelcontextprotocol\/(?!sdk\b|inspector\b)[\w.-]+/i,
  /(?:^|[\s/\\@"'])mcp-server-[\w.-]+/i,
  /[\w.-]+-mcp-server(?:\b|$)/i,
  /(?:^|[\s/\\])mcp-remote(?:@[\w.-]+)?(?:\s|$)/i,
  /\b(?:docker|podman)(?:\.exe)?\s+(?:container\s+)?run\b.*\s(?:docker\.io\/)?mcp\/[\w.-]+/i,
];

/** true when the command line looks like an MCP server by name. */
export function looksLikeMcpServer(cmd: string): boolean {
  // Every pattern names mcp or modelcontextprotocol: skip the regexes for the many that do not.
  return /mcp|modelcontextprotocol/i.test(cmd) && SERVER_NAME_PATTERNS.some((re) => re.test(cmd));
}
