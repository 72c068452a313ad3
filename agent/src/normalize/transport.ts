/**
 * Deciding a server's transport.
 *
 * Order: an explicit `type`/`transport` that we recognise and that fits the entry wins; else a `command` means stdio;
 * else the URL decides: `httpUrl` (Gemini) is streamable HTTP, a ws:// or wss:// URL is ws, a
 * URL whose path ends in `/sse` is SSE, any other URL is streamable HTTP. That last default
 * holds for every client: current Cursor, Claude Code, Windsurf (`serverUrl`), VS Code and Codex
 * try streamable HTTP first for a bare URL and the `/sse` path is the conventional SSE endpoint.
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

/** Transport implied by a URL (and the key it was written under). */
export function transportFromUrl(url: string, urlKey: string | null): ServerTransport {
  if (/^wss?:\/\//i.test(url)) return 'ws';
  if (urlKey === 'httpUrl') return 'http';
  const path = url.replace(/[?#].*$/s, '').replace(/\/+$/, '');
  return /\/sse$/i.test(path) ? 'sse' : 'http';
}

/** The transport of an entry from its explicit type, command and URL. */
export function resolveTransport(explicitType: string | null, command: string | null, url: string | null, urlKey: string | null): ServerTransport {
  const explicit = transportFromName(explicitType);
  // An explicit type that contradicts the entry (stdio without a command but with a URL, or a
  // remote type with only a command) is a mistake in the file; the entry's content decides.
  if (explicit === 'stdio' && (command || !url)) return explicit;
  if (explicit && explicit !== 'stdio' && (url || !command)) return explicit;
  if (command) return 'stdio';
  if (url) return transportFromUrl(url, urlKey);
  return 'unknown';
}
