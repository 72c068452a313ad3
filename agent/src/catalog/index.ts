/**
 * The client catalog's public face: the data (clients.ts) and lookups over it. Pure: no I/O.
 */
import type { Platform } from '../types.js';
import type { ClientDefinition, ConfigLocation } from './catalog-types.js';
import { CLIENTS } from './clients.js';

export type { BaseDir, ClientDefinition, ConfigLocation, DefinitionFiles, ProcessSignature, ProjectSource, ServerSection } from './catalog-types.js';
export { CLIENTS } from './clients.js';

/** A client's process signature on one OS, with its patterns compiled. */
export interface CompiledProcessSignature {
  client: string;
  displayName: string;
  /** Executable base names, lower-cased. */
  names: string[];
  pathPatterns: RegExp[];
  cmdlinePatterns: RegExp[];
  /** Clients whose processes host this one (an extension has no process of its own). */
  hostedBy: string[];
}

/** The catalog entry with this id, or undefined. */
export function clientById(id: string): ClientDefinition | undefined {
  return CLIENTS.find((c) => c.id === id);
}

/** Locations of every client that apply on `platform`, with their client. */
export function locationsFor(platform: Platform): Array<{ client: ClientDefinition; location: ConfigLocation }> {
  return CLIENTS.flatMap((client) => client.locations.filter((l) => l.os.includes(platform)).map((location) => ({ client, location })));
}

/**
 * Process signatures of every client on `platform`, used by the process collector to recognise
 * MCP client processes. Patterns are case-insensitive.
 */
export function processSignatures(platform: Platform): CompiledProcessSignature[] {
  return CLIENTS.map((c) => {
    const s = c.processes[platform];
    return {
      client: c.id,
      displayName: c.displayName,
      names: (s?.names ?? []).map((n) => n.toLowerCase()),
      pathPatterns: (s?.pathPatterns ?? []).map((p) => new RegExp(p, 'i')),
      cmdlinePatterns: (s?.cmdlinePatterns ?? []).map((p) => new RegExp(p, 'i')),
      hostedBy: [...(c.hostedBy ?? [])],
    };
  });
}

/**
 * First path segments of every project-scope location (".mcp.json", ".vscode", ...): a folder
 * holding one of these is a project folder worth reading.
 */
export function projectMarkers(): string[] {
  const out = new Set<string>();
  // A glob first segment (*.code-workspace) is no folder name to look for.
  for (const c of CLIENTS) for (const l of c.locations) if (l.base === 'project' && l.path[0] && !l.path[0].includes('*')) out.add(l.path[0]);
  // Folders holding only skills or hooks (no MCP config) are projects too: extensions run code there.
  for (const marker of EXTENSION_PROJECT_MARKERS) out.add(marker);
  return [...out].sort();
}

/** Project folders that hold skills or hooks (extensions/extension-finder.ts reads them). */
export const EXTENSION_PROJECT_MARKERS = ['.claude', '.agents', '.windsurf'] as const;
