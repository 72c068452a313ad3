/**
 * Deciding a server's transport.
 *
 * Order: an explicit `type`/`transport` that we recognise and that fits the entry wins; else a
 * `command` means stdio; else the URL decides:
 * - a ws:// or wss:// URL is ws; `httpUrl` (Gemini CLI) is streamable HTTP;
 * - clients that read a bare `url` as SSE do so: Gemini CLI (`url` = SSE, `httpUrl` = HTTP),
 *   Cline and Roo Code (their config schema matches SSE first when `type` is missing);
 * - for every other client (Cursor, Claude Code, Windsurf `serverUrl`, VS Code, Codex, Zed, ...),
 *   which try streamable HTTP first for a bare URL, a path ending in `/sse` (the conventional
 *   SSE endpoint) is SSE and anything else is streamable HTTP.
 * With neither command nor URL the transport is `unknown`.
 */
import type { ServerTransport } from '@mcpwatch/shared';

const NAMES: Record<string, ServerTransport> = {
  stdio: 'stdio',
  local: 'stdio', // opencode
  command: 'stdio',
  process: 'stdio',
  sse: 'sse',
  http: 'http',
  https: 'http',
  streamablehttp: 'http',
  streamable: 'http',
  httpstream: 'http',
  remote: 'http', // opencode remote: streamable HTTP with SSE fallback
  ws: 'ws',
  wss: 'ws',
  websocket: 'ws',
  websockets: 'ws',
};

/** Map a transport name as written (`streamable_http`, `streamableHttp`, `Streamable-HTTP`) to ours; null if unknown. */
export function transportFromName(name: string | null): ServerTransport | null {
  if (name === null) return null;
  return NAMES[name.toLowerCase().replace(/[-_\s]/g, '')] ?? null;
}

/** Clients that read a `url` without `type` as SSE. */
const BARE_URL_IS_SSE: ReadonlySet<string> = new Set(['gemini-cli', 'cline', 'roo-code']);

/** Transport implied by a URL, the key it was written under and the client that reads it. */
export function transportFromUrl(url: string, urlKey: string | null, client: string | null = null): ServerTransport {
  if (/^wss?:\/\//i.test(url)) return 'ws';
  if (urlKey === 'httpUrl') return 'http';
  if (urlKey === 'url' && client !== null && BARE_URL_IS_SSE.has(client)) return 'sse';
  const path = url.replace(/[?#].*$/s, '').replace(/\/+$/, '');
  return /\/sse$/i.test(path) ? 'sse' : 'http';
}

/** The transport of an entry from its explicit type, command and URL. */
export function resolveTransport(
  explicitType: string | null,
  command: string | null,
  url: string | null,
  urlKey: string | null,
  client: string | null = null,
): ServerTransport {
  const explicit = transportFromName(explicitType);
  // An explicit type that contradicts the entry (stdio without a command but with a URL, or a
  // remote type with only a command) is a mistake in the file; the entry's content decides.
  if (explicit === 'stdio' && (command || !url)) return explicit;
  if (explicit && explicit !== 'stdio' && (url || !command)) return explicit;
  if (command) return 'stdio';
  if (url) return transportFromUrl(url, urlKey, client);
  return 'unknown';
}
