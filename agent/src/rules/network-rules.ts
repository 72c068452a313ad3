/**
 * Network rules: remote servers reached without TLS, local servers listening on every interface.
 */
import { isLoopbackHost } from '@mcpwatch/shared/protocol';
import { serverSubject, type Rule, type RuleContext, type RuleHit } from './rule-types.js';

/** Host part of a URL as written (no userinfo, no port), lower case; null when not parseable. */
export function urlHost(url: string): string | null {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)/.exec(url);
  return m ? (m[1] as string).toLowerCase() : null;
}


/** true for private-network hosts (RFC 1918, link-local, unique-local, .local, docker host alias). */
export function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return (
    /^10\./.test(h) ||
    /^192\.168\./.test(h) ||
    /^172\.(?:1[6-9]|2\d|3[01])\./.test(h) ||
    /^169\.254\./.test(h) ||
    /^f[cd][0-9a-f]{2}:/i.test(h) ||
    /^fe80:/i.test(h) ||
    h.endsWith('.local') ||
    h.endsWith('.internal') ||
    h.endsWith('.lan') ||
    !h.includes('.') // single-label intranet name
  );
}

export const plaintextRemoteRule: Rule = {
  id: 'plaintext-remote',
  severity: 'high',
  title: 'Remote MCP server over plain HTTP',
  rationale:
    'The client talks to a non-loopback MCP server over http:// or ws://, so tool calls, results and any credentials ' +
    'in headers travel unencrypted and can be read or altered on the network. Use https:// (wss://).',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const { server } of ctx.views) {
      for (const [field, url] of [['url', server.url], ['remoteUrl', server.remoteUrl]] as const) {
        if (!url || !/^(?:http|ws):\/\//i.test(url)) continue;
        const host = urlHost(url);
        if (!host || isLoopbackHost(host)) continue;
        hits.push({
          key: `${server.serverKey}|${field}`,
          subject: serverSubject(server),
          evidence: { field, detail: url },
          severity: isPrivateHost(host) ? 'medium' : 'high',
          title: `Plain-HTTP MCP server at ${host}`,
        });
      }
    }
    return hits;
  },
};

export const listeningAllInterfacesRule: Rule = {
  id: 'listening-all-interfaces',
  severity: 'high',
  title: 'Local MCP server listening on all interfaces',
  rationale:
    'An MCP server process on this machine accepts connections on every network interface (0.0.0.0 / ::), so anyone ' +
    'on the same network can call its tools, usually without authentication. Bind it to 127.0.0.1.',
  evaluate(ctx: RuleContext): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const s of ctx.sockets ?? []) {
      if (s.kind !== 'listen' || !s.allInterfaces) continue;
      hits.push({
        // pids change on restart; the server (or process name) and port identify the exposure.
        key: `${s.serverKey ?? s.processName}|${s.protocol}|${s.localPort}`,
        subject: { serverKey: s.serverKey ?? null, client: s.client ?? null, pid: s.pid },
        evidence: { field: 'socket', detail: `${s.processName} ${s.protocol} ${s.localAddress}:${s.localPort}` },
        title: `MCP server ${s.processName} listening on ${s.localAddress}:${s.localPort}`,
      });
    }
    return hits;
  },
};
