/**
 * One endpoint as GET /v1/endpoints/:endpointId and the dashboard's endpoint page show it: the
 * store's current inventory (store.getEndpoint) with, for every configured server entry, its
 * containment (containment/containment-service.ts: quarantined / pending / restored / failed, the
 * command, who issued it, when, why, the result) and its tools as the collector stores them
 * (tools/tool-queries.ts: name, title, hashes, annotations, first seen, pin state, open tool
 * findings). Tools of servers no configured entry names (socket listeners found by probing) are
 * listed apart, in `otherTools`; every server that ever had a containment command is listed in
 * `containment` with its name, also when it is gone from the inventory (a quarantine removes the
 * entry from its config file), so it can be restored from there.
 *
 * Matching: a tool belongs to the entry with its serverKey; a tool without one (a probed listener
 * of a configured server, a client's cache) to every entry with its fingerprint (serverId).
 * A tool finding is "about" a tool when its rule id starts with `tool-`, it names the tool
 * (evidence field `tool.<name>` or `tool.<name>.*`) and the same server (serverKey, else name).
 * Bounds: at most MAX_ENDPOINT_TOOLS tools (the store's query cap); past it `truncated` names
 * `tools`. Without the SQL store or containment, servers carry no tools / `containment: null`.
 * Failure: store errors reject as MCPW_ERR_STORE_UNAVAILABLE (503).
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ServerContainmentState } from '../containment/containment-service.js';
import { Errors, isCollectorError } from '../errors.js';
import type { EndpointDetail, Store } from '../store/types.js';
import { toolsOfEndpoint, type EndpointTool } from '../tools/tool-queries.js';

/** Most tools one endpoint answer carries (toolsOfEndpoint's cap). */
export const MAX_ENDPOINT_TOOLS = 1000;

/** The rule whose open finding means a tool drifted from its first-seen pin (agent/src/rules/tool-rules.ts). */
const RUG_PULL_RULE = 'tool-changed-without-version';

export interface EndpointToolState extends Omit<EndpointTool, 'endpointId'> {
  pin: { firstSeen: string; state: 'pinned' | 'changed-without-version' };
  openFindings: Array<{ id: string; ruleId: string; severity: string; title: string }>;
}

export type EndpointServerView = EndpointDetail['servers'][number] & { containment: ServerContainmentState | null; tools: EndpointToolState[] };

/** A server's containment with the entry it is about (a quarantined entry is gone from the current inventory). */
export type EndpointContainmentView = ServerContainmentState & { serverName: string | null; client: string | null; inInventory: boolean };

export interface EndpointDetailView extends Omit<EndpointDetail, 'servers'> {
  servers: EndpointServerView[];
  otherTools: EndpointToolState[];
  /** Every server of the endpoint that ever had a containment command, in the inventory or not. */
  containment: EndpointContainmentView[];
}

type FindingRow = EndpointDetail['findings'][number];

function findingIsAbout(f: FindingRow, t: EndpointTool): boolean {
  if (f.status !== 'open' || !f.ruleId.startsWith('tool-')) return false;
  const field = f.evidence?.field ?? '';
  if (field !== `tool.${t.name}` && !field.startsWith(`tool.${t.name}.`)) return false;
  const s = f.subject ?? {};
  if (s.serverKey) return s.serverKey === t.serverKey;
  return s.serverName === (t.serverName ?? t.serverId);
}

function toolState(t: EndpointTool, findings: readonly FindingRow[]): EndpointToolState {
  const { endpointId: _endpointId, ...rest } = t;
  void _endpointId;
  const open = findings.filter((f) => findingIsAbout(f, t));
  return {
    ...rest,
    pin: { firstSeen: t.firstSeen, state: open.some((f) => f.ruleId === RUG_PULL_RULE) ? 'changed-without-version' : 'pinned' },
    openFindings: open.map((f) => ({ id: f.id, ruleId: f.ruleId, severity: f.severity, title: f.title })),
  };
}

/** Joins `detail` with its endpoint's tools and containment states (pure). */
export function endpointDetailView(
  detail: EndpointDetail,
  tools: readonly EndpointTool[],
  states: readonly ServerContainmentState[],
  names: ReadonlyMap<string, { name: string; client: string }> = new Map(),
): EndpointDetailView {
  const stateOf = new Map(states.map((s) => [s.serverKey, s]));
  const views = tools.map((t) => toolState(t, detail.findings));
  const keys = new Set(detail.servers.map((s) => s.serverKey));
  const fingerprints = new Set(detail.servers.map((s) => s.fingerprint));
  const servers = detail.servers.map((s) => ({
    ...s,
    containment: stateOf.get(s.serverKey) ?? null,
    tools: views.filter((t) => (t.serverKey ? t.serverKey === s.serverKey : t.serverId === s.fingerprint)),
  }));
  const otherTools = views.filter((t) => (t.serverKey ? !keys.has(t.serverKey) : !fingerprints.has(t.serverId)));
  const truncated = tools.length >= MAX_ENDPOINT_TOOLS && !detail.truncated.includes('tools') ? [...detail.truncated, 'tools'] : detail.truncated;
  const entryOf = new Map(detail.servers.map((e) => [e.serverKey, e]));
  const containment = states.map((st) => {
    const e = entryOf.get(st.serverKey) ?? names.get(st.serverKey);
    return { ...st, serverName: e?.name ?? null, client: e?.client ?? null, inInventory: entryOf.has(st.serverKey) };
  });
  return { ...detail, servers, otherTools, containment, truncated };
}

/**
 * Loads the tools and containment states of `detail`'s endpoint and joins them: tools from `store`
 * (default app.collector.store; the query listener passes its read-only one), containment from
 * app.containment.
 */
export async function loadEndpointDetailView(app: FastifyInstance, detail: EndpointDetail, store: Store = app.collector.store): Promise<EndpointDetailView> {
  const db = (store as unknown as { db?: Kysely<any> }).db; // eslint-disable-line @typescript-eslint/no-explicit-any
  const id = detail.endpoint.endpointId;
  const containment = app.hasDecorator('containment') ? app.containment : null;
  try {
    const [tools, states] = await Promise.all([db ? toolsOfEndpoint(db, id, MAX_ENDPOINT_TOOLS) : [], containment ? containment.states([id]) : []]);
    const inInventory = new Set(detail.servers.map((e) => e.serverKey));
    const gone = states.map((st) => st.serverKey).filter((k) => !inInventory.has(k));
    const names = containment && gone.length > 0 ? await containment.serverNames(id, gone) : new Map<string, { name: string; client: string }>();
    return endpointDetailView(detail, tools, states, names);
  } catch (e) {
    if (isCollectorError(e)) throw e;
    throw Errors.storeUnavailable(`endpoint tools or containment unavailable: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}
