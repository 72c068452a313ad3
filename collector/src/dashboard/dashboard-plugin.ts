/**
 * The dashboard at /ui, served by the collector itself (no second server, no CDN: the collector
 * may run air-gapped), with the Fastify ecosystem's plugins: @fastify/static (the files built
 * into dist/ui by scripts/build-ui.mjs), @fastify/cookie (the session cookie), @fastify/csrf-protection
 * (double-submit token on every state-changing request), @fastify/helmet (CSP 'self' only,
 * frame-ancestors none, no-referrer, HSTS over TLS). All of it in this plugin's own scope: the
 * agent and query APIs are untouched.
 *
 * Sign-in: POST /ui/api/session {token} exchanges an API token (read or admin) for a session id in
 * an HttpOnly, SameSite=Strict cookie (Secure when the collector serves TLS), Path=/ui. The token
 * is never stored (only its id, via auth.ts), never put in a URL or in the browser's storage.
 * Failed sign-ins count against the source's failed-auth budget (abuse-guard.ts), like bad bearer
 * tokens. DELETE /ui/api/session logs out.
 *
 * JSON API for the pages (session required; lists page server-side with the query API's cursors):
 *   GET /ui/api/overview · /ui/api/endpoints · /ui/api/endpoints/:id (as GET /v1/endpoints/:id:
 *   servers with containment and tools) · /ui/api/servers (each group with its counts of
 *   quarantined / pending / restored / failed entries) · /ui/api/servers/:fingerprint/endpoints
 *   (each entry with its containment) · /ui/api/findings · /ui/api/tools (?name&server&capability,
 *   paged) · /ui/api/tools/:name/endpoints (paged) · /ui/api/tool-calls (?endpoint&server&tool&decision, paged)
 *   · GET /ui/api/csrf
 *   POST /ui/api/containment (admin session + CSRF): quarantine / restore from the endpoint page.
 * Errors: the collector's coded JSON errors (401 no session, 403 scope or CSRF, 404, 503).
 * Without a built dist/ui, /ui answers 503 MCPW_ERR_STORE_UNAVAILABLE-free text saying how to build it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { COMMAND_ACTIONS, TOOL_CAPABILITIES, TOOL_DECISIONS, type Severity, type ToolCalledData } from '@mcpwatch/shared';
import { authenticate, type Principal } from '../auth.js';
import { Errors, isCollectorError } from '../errors.js';
import { hashSecret } from '../secret-hash.js';
import { rejectNulCharacters } from '../routes/api-schemas.js';
import { loadEndpointDetailView } from '../routes/endpoint-detail-view.js';
import { attachContainment, attachContainmentCounts } from '../containment/containment-join.js';
import { exposingPage, toolsPage } from '../tools/tool-queries.js';
import { DashboardSessions } from './dashboard-sessions.js';
import { filterGroups, ServerSummaryCache } from './server-summary.js';

/** Where the built dashboard lives: dist/ui next to this file's dist/dashboard (src/ in tests: ../../dist/ui). */
export function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'ui'), join(here, '..', '..', 'dist', 'ui')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? candidates[0]!;
}

export const SESSION_COOKIE = 'mcpw_session';
export const CSRF_COOKIE = 'mcpw_csrf';
const SESSION_TTL_MS = 8 * 3600_000;

export interface DashboardOptions {
  /** Built dashboard files (index.html, app.js, app.css); default defaultUiDir(). */
  uiDir?: string;
}

const Filter = (maxLength = 512) => Type.Optional(Type.String({ minLength: 1, maxLength }));
const SeverityQ = Type.Optional(Type.Union(['info', 'low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s))));
const Page = { cursor: Filter(1024), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) };
// No severity filter here: the store answers it by walking endpoints (over the 300 ms budget at
// 100,000 endpoints); the findings page filters by severity and links to each endpoint.
const EndpointsQ = Type.Object({ hostname: Filter(), os: Filter(), client: Filter(), server: Filter(), user: Filter(), ...Page }, { additionalProperties: false });
const ServersQ = Type.Object(
  { name: Filter(), package: Filter(), client: Filter(), transport: Type.Optional(Type.Union(['stdio', 'sse', 'http', 'ws', 'unknown'].map((t) => Type.Literal(t)))), risk: SeverityQ, ...Page },
  { additionalProperties: false },
);
const FindingsQ = Type.Object(
  { severity: SeverityQ, rule: Filter(128), status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('resolved')])), endpoint: Filter(128), ...Page },
  { additionalProperties: false },
);
const PageQ = Type.Object({ ...Page }, { additionalProperties: false });
const ToolsQ = Type.Object(
  { name: Filter(256), server: Filter(), capability: Type.Optional(Type.Union(TOOL_CAPABILITIES.map((c) => Type.Literal(c)))), ...Page },
  { additionalProperties: false },
);
const ToolEndpointsQ = Type.Object({ server: Filter(), ...Page }, { additionalProperties: false });
const ToolCallsQ = Type.Object(
  { endpoint: Filter(128), server: Filter(256), tool: Filter(256), decision: Type.Optional(Type.Union(TOOL_DECISIONS.map((d) => Type.Literal(d)))), ...Page },
  { additionalProperties: false },
);
const SignIn = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
const Contain = Type.Object(
  {
    endpointId: Type.String({ minLength: 1, maxLength: 128 }),
    serverKey: Type.String({ minLength: 1, maxLength: 256 }),
    action: Type.Union(COMMAND_ACTIONS.map((a) => Type.Literal(a))),
    reason: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

declare module 'fastify' {
  interface FastifyRequest {
    uiPrincipal?: Principal;
  }
}

/** The servers page's cursor: an offset into the summary, opaque to the page. */
function encodeOffset(o: number): string {
  return Buffer.from(JSON.stringify({ o })).toString('base64url');
}
function decodeOffset(cursor: string): number {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (Number.isInteger(v.o) && (v.o as number) >= 0 && (v.o as number) <= 10_000_000) return v.o as number;
  } catch {
    // fall through
  }
  throw Errors.malformed('cursor is not one this API handed out');
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function dashboardPlugin(opts: DashboardOptions = {}): FastifyPluginAsync {
  return async (app) => {
    const { store, config, now, tls } = app.collector;
    const uiDir = opts.uiDir ?? defaultUiDir();
    const db = (store as unknown as { db?: Kysely<any> }).db; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!db) return; // a store without SQL (test fakes): no dashboard
    const sessions = new DashboardSessions(db, now, SESSION_TTL_MS);
    // Servers grouped by fingerprint, recomputed in the background (server-summary.ts): the list
    // and the overview's prevalence answer from memory at any fleet size.
    const serverSummary = new ServerSummaryCache(db, now);
    const bootstrapHash = config.adminToken ? hashSecret(config.adminToken) : null;
    const secure = tls.mode !== 'off';
    const guard = app.hasDecorator('abuseGuard') ? app.abuseGuard : undefined;

    await app.register(fastifyCookie);
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: CSRF_COOKIE,
      cookieOpts: { path: '/ui', sameSite: 'strict', httpOnly: true, secure, signed: false },
      getToken: (req: FastifyRequest) => req.headers['x-csrf-token'] as string | undefined,
    });
    await app.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: 'no-referrer' },
      hsts: secure ? { maxAge: 31536000 } : false,
      crossOriginEmbedderPolicy: false,
    });
    app.addHook('preValidation', rejectNulCharacters);
    app.addHook('onSend', async (req, reply) => {
      if (req.url.startsWith('/ui/api/')) void reply.header('cache-control', 'no-store');
    });

    /** @fastify/csrf-protection's check (it answers with FST_CSRF_* errors, told as our coded 403 below). */
    const csrfCheck = app.csrfProtection;
    // Rethrown errors reach the root handler (http-errors.ts), which renders the coded JSON error.
    app.setErrorHandler((err: { code?: string }) => {
      if (typeof err?.code === 'string' && err.code.startsWith('FST_CSRF_')) throw Errors.forbidden('CSRF token missing or invalid: reload the page and try again', { cause: err });
      throw err;
    });
    const session = (scope: 'read' | 'admin') => async (req: FastifyRequest) => {
      let p: Principal | null;
      try {
        p = await sessions.principal(req.cookies[SESSION_COOKIE]);
      } catch (e) {
        throw Errors.storeUnavailable(`sessions unavailable: ${(e as Error).message}`, { cause: e });
      }
      if (!p) throw Errors.unauthorized('not signed in (or the session expired): sign in at /ui/login');
      if (scope === 'admin' && p.scope !== 'admin') throw Errors.forbidden(`this needs an admin token; you signed in with "${p.name}" (scope ${p.scope})`);
      req.uiPrincipal = p;
    };
    const storeFailure = (e: unknown): never => {
      if (isCollectorError(e)) throw e;
      throw Errors.storeUnavailable(`store failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    };

    // ---- session ----
    app.get('/ui/api/csrf', async (_req, reply) => ({ csrfToken: reply.generateCsrf() }));
    app.post<{ Body: Static<typeof SignIn> }>('/ui/api/session', { schema: { body: SignIn }, onRequest: csrfCheck }, async (req, reply) => {
      await guard?.refuseIfOverFailureBudget(req, 'token');
      let p: Principal;
      try {
        p = await authenticate(store, bootstrapHash, `Bearer ${req.body.token.trim()}`);
      } catch (e) {
        if ((e as { code?: string }).code === Errors.unauthorized.code) await guard?.recordFailure(req, 'token');
        throw e;
      }
      const id = await sessions.open(p).catch(storeFailure);
      void reply.setCookie(SESSION_COOKIE, id, { path: '/ui', httpOnly: true, sameSite: 'strict', secure, maxAge: SESSION_TTL_MS / 1000 });
      return { name: p.name, scope: p.scope, csrfToken: reply.generateCsrf() };
    });
    app.get('/ui/api/session', { onRequest: session('read') }, async (req, reply) => ({ name: req.uiPrincipal!.name, scope: req.uiPrincipal!.scope, csrfToken: reply.generateCsrf() }));
    app.delete('/ui/api/session', { onRequest: csrfCheck }, async (req, reply) => {
      await sessions.close(req.cookies[SESSION_COOKIE]).catch(storeFailure);
      void reply.clearCookie(SESSION_COOKIE, { path: '/ui', httpOnly: true, sameSite: 'strict', secure });
      return { ok: true };
    });

    const containmentOf = () => (app.hasDecorator('containment') ? app.containment : null);

    // ---- data for the pages ----
    const read = { onRequest: session('read') };
    app.get('/ui/api/overview', read, async () => {
      const summary = await serverSummary.get().catch(storeFailure);
      return { ...summary.fleet, topServers: summary.groups.slice(0, 10), computedAt: summary.computedAt };
    });
    app.get<{ Querystring: Static<typeof EndpointsQ> }>('/ui/api/endpoints', { ...read, schema: { querystring: EndpointsQ } }, async (req) => {
      const q = req.query;
      return store.listEndpoints(defined({ hostname: q.hostname, os: q.os, client: q.client, serverName: q.server, user: q.user, cursor: q.cursor, limit: q.limit }));
    });
    app.get<{ Params: { endpointId: string } }>('/ui/api/endpoints/:endpointId', read, async (req) => {
      const id = req.params.endpointId;
      if (id.length > 128) throw Errors.malformed('endpoint id too long');
      const detail = await store.getEndpoint(id, 100).catch(storeFailure);
      if (!detail) throw Errors.notFound(`no endpoint ${id}`);
      return loadEndpointDetailView(app, detail);
    });
    app.get<{ Querystring: Static<typeof ServersQ> }>('/ui/api/servers', { ...read, schema: { querystring: ServersQ } }, async (req) => {
      const q = req.query;
      const summary = await serverSummary.get().catch(storeFailure);
      const groups = filterGroups(summary.groups, defined({ name: q.name, package: q.package, client: q.client, transport: q.transport, risk: q.risk as Severity | undefined }));
      const offset = q.cursor === undefined ? 0 : decodeOffset(q.cursor);
      const limit = q.limit ?? 50;
      const items = await attachContainmentCounts(containmentOf(), groups.slice(offset, offset + limit)).catch(storeFailure);
      return { items, nextCursor: offset + limit < groups.length ? encodeOffset(offset + limit) : null, computedAt: summary.computedAt };
    });
    app.get<{ Params: { fingerprint: string }; Querystring: Static<typeof PageQ> }>('/ui/api/servers/:fingerprint/endpoints', { ...read, schema: { querystring: PageQ } }, async (req) => {
      const page = await store.serverEndpoints(req.params.fingerprint, defined({ cursor: req.query.cursor, limit: req.query.limit }));
      return { ...page, items: await attachContainment(containmentOf(), page.items).catch(storeFailure) };
    });
    app.get<{ Querystring: Static<typeof FindingsQ> }>('/ui/api/findings', { ...read, schema: { querystring: FindingsQ } }, async (req) => {
      const q = req.query;
      // One status at a time (default open): the store's order across both is over the page budget
      // at 100,000 endpoints, the per-status one uses its index (npm run bench:dashboard).
      return store.listFindings(defined({ severity: q.severity as Severity | undefined, rule: q.rule, status: q.status ?? 'open', endpointId: q.endpoint, cursor: q.cursor, limit: q.limit }));
    });

    // Tools (issue 12's projection): fleet-wide with prevalence, and which endpoints expose one.
    app.get<{ Querystring: Static<typeof ToolsQ> }>('/ui/api/tools', { ...read, schema: { querystring: ToolsQ } }, async (req) => {
      const q = req.query;
      return toolsPage(db, defined({ name: q.name, server: q.server, capability: q.capability, cursor: q.cursor, limit: q.limit ?? 50 })).catch(storeFailure);
    });
    app.get<{ Params: { name: string }; Querystring: Static<typeof ToolEndpointsQ> }>('/ui/api/tools/:name/endpoints', { ...read, schema: { querystring: ToolEndpointsQ } }, async (req) => {
      if (req.params.name.length > 256) throw Errors.malformed('tool name too long');
      const q = req.query;
      return exposingPage(db, req.params.name, defined({ server: q.server, cursor: q.cursor, limit: q.limit ?? 50 })).catch(storeFailure);
    });
    // Tool calls (tool.called events from client hooks), newest first, a page of the event index at
    // a time; server/tool/decision are matched within the page (a page may hold fewer: walk on).
    app.get<{ Querystring: Static<typeof ToolCallsQ> }>('/ui/api/tool-calls', { ...read, schema: { querystring: ToolCallsQ } }, async (req) => {
      const q = req.query;
      const page = await store.listEvents(defined({ type: 'tool.called', endpointId: q.endpoint, cursor: q.cursor, limit: q.limit })).catch(storeFailure);
      const items = page.items
        .map((e) => ({ id: e.id, endpointId: e.endpointId, time: e.time, ...(e.data as ToolCalledData) }))
        .filter((c) => (!q.server || c.server === q.server) && (!q.tool || c.tool === q.tool) && (!q.decision || c.decision === q.decision));
      return { items, nextCursor: page.nextCursor };
    });

    // ---- admin action: containment (admin session + CSRF) ----
    app.post<{ Body: Static<typeof Contain> }>('/ui/api/containment', { schema: { body: Contain }, onRequest: [csrfCheck, session('admin')] }, async (req) => {
      if (!(app.hasDecorator('containment') && app.containment)) throw Errors.storeUnavailable('containment unavailable');
      const b = req.body;
      const detail = await store.getEndpoint(b.endpointId, 0).catch(storeFailure);
      if (!detail) throw Errors.notFound(`no endpoint ${b.endpointId}`);
      if (b.action === 'quarantine' && !detail.servers.some((s) => s.serverKey === b.serverKey)) throw Errors.notFound(`endpoint ${b.endpointId} has no server ${b.serverKey}`);
      const p = req.uiPrincipal!;
      return app.containment.issue({ ...b, actor: { tokenId: p.tokenId, name: `${p.name} (dashboard)` } }).catch(storeFailure);
    });

    // ---- the static app ----
    const built = existsSync(join(uiDir, 'index.html'));
    if (built) {
      await app.register(fastifyStatic, { root: uiDir, prefix: '/ui/', wildcard: false, index: false, cacheControl: true, maxAge: '1h' });
    }
    const page = async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.url.startsWith('/ui/api/')) throw Errors.notFound(`no route ${req.method} ${req.url.split('?')[0]}`);
      if (!built) return reply.code(503).type('text/plain').send('The dashboard is not built: run `npm run build` (it runs collector/scripts/build-ui.mjs).\n');
      void reply.header('cache-control', 'no-store');
      return reply.sendFile('index.html');
    };
    app.get('/ui', async (_req, reply) => reply.redirect('/ui/'));
    app.get('/ui/', page);
    app.get('/ui/*', page);
  };
}
