import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api, qs } from './api';
import { BarChart, Filters, Pager, Severity, Status, Table, TimeChart, useApi, useQuery, When, type Row } from './components';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const enc = encodeURIComponent;
const endpointLink = (id: string, label?: string) => <a href={`/ui/endpoints/${enc(id)}`}>{label ?? id}</a>;
const pkg = (r: Row) => (r.packageName ? `${r.packageName}${r.packageVersion ? `@${r.packageVersion}` : ''}` : (r.url ?? r.command ?? '–'));
const CONTAINMENT_STATUSES = ['quarantined', 'pending', 'restored', 'failed'];

/** A server entry's containment: status, the command, who issued it and when (null: never contained). */
function Containment({ state }: { state: Row | null | undefined }) {
  if (!state) return <span class="muted">not contained</span>;
  const c = state.command;
  const what = state.status === 'pending' ? `${c.action} pending` : state.status === 'failed' ? `${c.action} ${c.status}` : state.status;
  return (
    <span class="containment">
      <span class={`cstate cstate-${state.status}`}>{what}</span>
      {state.status === 'failed' && state.state !== 'none' ? <> (still {state.state})</> : null}
      <span class="cdetail">
        {' '}<code>{c.commandId}</code> by {c.actor.name}, <When iso={c.requestedAt} />
        {c.resultDetail ? <> · {c.resultDetail}</> : null}
      </span>
    </span>
  );
}

/** Counts of a server group's contained entries, e.g. "1 quarantined, 1 pending". */
const containmentCounts = (counts: Record<string, number> | null | undefined) => {
  const parts = CONTAINMENT_STATUSES.filter((k) => (counts?.[k] ?? 0) > 0).map((k) => `${counts![k]} ${k}`);
  return parts.length > 0 ? parts.join(', ') : '–';
};

export function Overview() {
  const { data, loading, error } = useApi('/overview');
  return (
    <>
      <h1>Fleet overview</h1>
      <Status loading={loading && !data} error={error} />
      {data && <p class="hint">Counts as of <When iso={data.computedAt} /> (recomputed in the background).</p>}
      {data && (
        <>
          <section aria-labelledby="h-endpoints" class="cards">
            <h2 id="h-endpoints" class="visually-hidden">Endpoints</h2>
            <div class="card"><span class="big">{data.endpoints.total}</span> endpoints</div>
            <div class="card"><span class="big">{data.endpoints.reporting}</span> reporting</div>
            <div class="card"><span class="big">{data.endpoints.stale}</span> stale (no report in {data.endpoints.staleAfterHours} h)</div>
            <div class="card">
              <span class="big">{Object.values(data.openFindingsBySeverity as Record<string, number>).reduce((a, b) => a + b, 0)}</span> open findings
            </div>
          </section>
          <div class="grid">
            <section aria-labelledby="h-sev">
              <h2 id="h-sev">Findings by severity over time</h2>
              <TimeChart title="Findings first seen per day, by severity (numbers in the table below)" points={data.findingsOverTime} />
              <Table
                caption="Findings first seen per day"
                columns={[{ h: 'Day', cell: (r) => r.day }, { h: 'Severity', cell: (r) => <Severity value={r.severity} /> }, { h: 'Findings', cell: (r) => r.count, class: 'num' }]}
                rows={data.findingsOverTime}
                empty="No findings in the last 30 days."
              />
              <Table
                caption="Open findings by severity"
                columns={[{ h: 'Severity', cell: (r) => <Severity value={r.s} /> }, { h: 'Open', cell: (r) => r.n, class: 'num' }]}
                rows={SEVERITIES.map((s) => ({ s, n: data.openFindingsBySeverity[s] ?? 0 }))}
              />
            </section>
            <section aria-labelledby="h-prev">
              <h2 id="h-prev">Servers by prevalence</h2>
              <BarChart title="Endpoints per server" bars={data.topServers.map((s: Row) => ({ label: s.names[0] ?? s.fingerprint, value: s.endpointCount }))} />
              <Table
                caption="Most prevalent MCP servers"
                columns={[
                  { h: 'Server', cell: (r) => <a href={`/ui/servers${qs({ fingerprint: r.fingerprint })}`}>{r.names.join(', ')}</a> },
                  { h: 'Package', cell: pkg },
                  { h: 'Endpoints', cell: (r) => r.endpointCount, class: 'num' },
                  { h: 'Risk', cell: (r) => <Severity value={r.maxSeverity} /> },
                ]}
                rows={data.topServers}
              />
              <h2 id="h-ver">Agent versions</h2>
              <BarChart title="Endpoints per agent version" bars={data.agentVersions.map((v: Row) => ({ label: v.version, value: v.count }))} />
              <Table caption="Agent versions" columns={[{ h: 'Version', cell: (r) => r.version }, { h: 'Endpoints', cell: (r) => r.count, class: 'num' }]} rows={data.agentVersions} />
            </section>
          </div>
        </>
      )}
    </>
  );
}

export function Endpoints() {
  const q = useQuery();
  const { data, loading, error } = useApi(`/endpoints${qs({ hostname: q.hostname, os: q.os, client: q.client, server: q.server, cursor: q.cursor, limit: q.limit })}`);
  return (
    <>
      <h1>Endpoints</h1>
      <Filters
        label="Filter endpoints"
        fields={[
          { name: 'hostname', label: 'Hostname' },
          { name: 'os', label: 'OS' },
          { name: 'client', label: 'MCP client' },
          { name: 'server', label: 'Server name' },
        ]}
      />
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="Endpoints"
            columns={[
              { h: 'Hostname', cell: (r) => endpointLink(r.endpointId, r.hostname) },
              { h: 'OS', cell: (r) => `${r.platform} ${r.osName ?? ''} ${r.osRelease ?? ''}` },
              { h: 'Agent', cell: (r) => r.agentVersion ?? '–' },
              { h: 'Last seen', cell: (r) => <When iso={r.lastSeen} /> },
            ]}
            rows={data.items}
            rowKey={(r) => r.endpointId}
          />
          <Pager nextCursor={data.nextCursor} label="Endpoints" />
        </>
      )}
    </>
  );
}

function WhoRuns({ fingerprint }: { fingerprint: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const { data, loading, error } = useApi(`/servers/${enc(fingerprint)}/endpoints${qs({ cursor, limit: 50 })}`);
  return (
    <div class="whoruns">
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="Endpoints that run this server"
            columns={[
              { h: 'Endpoint', cell: (r) => endpointLink(r.endpointId, r.hostname) },
              { h: 'Name', cell: (r) => r.name },
              { h: 'Client', cell: (r) => r.client },
              { h: 'User', cell: (r) => r.user ?? '–' },
              { h: 'Config', cell: (r) => <code>{r.configPath}</code> },
              { h: 'Containment', cell: (r) => <Containment state={r.containment} /> },
            ]}
            rows={data.items}
          />
          {data.nextCursor && <button type="button" onClick={() => setCursor(data.nextCursor)}>More endpoints</button>}
        </>
      )}
    </div>
  );
}

export function Servers() {
  const q = useQuery();
  const [open, setOpen] = useState<string | null>(q.fingerprint ?? null);
  const { data, loading, error } = useApi(`/servers${qs({ name: q.name, package: q.package, transport: q.transport, client: q.client, risk: q.risk, cursor: q.cursor, limit: q.limit })}`);
  return (
    <>
      <h1>Servers</h1>
      <p class="hint">Grouped by fingerprint (what the server runs), most prevalent first.</p>
      <Filters
        label="Filter servers"
        fields={[
          { name: 'name', label: 'Name' },
          { name: 'package', label: 'Package' },
          { name: 'client', label: 'MCP client' },
          { name: 'transport', label: 'Transport', options: ['stdio', 'sse', 'http', 'ws', 'unknown'] },
          { name: 'risk', label: 'Risk at least', options: SEVERITIES },
        ]}
      />
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="MCP servers across the fleet"
            columns={[
              { h: 'Names', cell: (r) => r.names.join(', ') },
              { h: 'Transport', cell: (r) => r.transport },
              { h: 'Package', cell: pkg },
              { h: 'Pinning', cell: (r) => (r.packageName ? (r.packageVersion ? 'pinned' : 'floating') : '–') },
              { h: 'Clients', cell: (r) => r.clients.join(', ') },
              { h: 'Endpoints', cell: (r) => r.endpointCount, class: 'num' },
              { h: 'Risk', cell: (r) => <Severity value={r.maxSeverity} /> },
              { h: 'Contained entries', cell: (r) => containmentCounts(r.containment) },
              {
                h: 'Where',
                cell: (r) => (
                  <button type="button" aria-expanded={open === r.fingerprint} onClick={() => setOpen(open === r.fingerprint ? null : r.fingerprint)}>
                    {open === r.fingerprint ? 'Hide endpoints' : 'Which endpoints run this'}
                  </button>
                ),
              },
            ]}
            rows={data.items}
            rowKey={(r) => r.fingerprint}
          />
          {open && (
            <section aria-labelledby="h-who">
              <h2 id="h-who">Endpoints running {data.items.find((s: Row) => s.fingerprint === open)?.names.join(', ') ?? open}</h2>
              <WhoRuns fingerprint={open} />
            </section>
          )}
          <Pager nextCursor={data.nextCursor} label="Servers" />
        </>
      )}
    </>
  );
}

function ToolEndpoints({ name, server }: { name: string; server: string }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const { data, loading, error } = useApi(`/tools/${enc(name)}/endpoints${qs({ server, cursor, limit: 50 })}`);
  return (
    <div class="whoruns">
      <Status loading={loading} error={error} />
      {data && (
        <Table
          caption="Endpoints that expose this tool"
          columns={[
            { h: 'Endpoint', cell: (r) => endpointLink(r.endpointId, r.hostname ?? undefined) },
            { h: 'Server version', cell: (r) => r.serverVersion ?? '–' },
            { h: 'Description hash', cell: (r) => <code>{(r.descriptionSha256 ?? '–').slice(0, 12)}</code> },
            { h: 'Source', cell: (r) => r.source },
            { h: 'First seen', cell: (r) => <When iso={r.firstSeen} /> },
          ]}
          rows={data.items}
        />
      )}
      {data?.nextCursor && <button type="button" onClick={() => setCursor(data.nextCursor)}>More endpoints</button>}
    </div>
  );
}

export function Tools() {
  const q = useQuery();
  const [open, setOpen] = useState<Row | null>(null);
  const { data, loading, error } = useApi(`/tools${qs({ name: q.name, server: q.server, capability: q.capability, cursor: q.cursor, limit: q.limit })}`);
  const key = (r: Row) => `${r.serverId}\u0000${r.name}`;
  return (
    <>
      <h1>Tools</h1>
      <p class="hint">The tools MCP servers expose across the fleet (from probes and client caches), most prevalent first.</p>
      <Filters
        label="Filter tools"
        fields={[
          { name: 'name', label: 'Tool name' },
          { name: 'server', label: 'Server (name or fingerprint)' },
          { name: 'capability', label: 'Capability', options: ['shell-exec', 'file-write', 'network-fetch', 'credential-access'] },
        ]}
      />
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="MCP tools across the fleet"
            columns={[
              { h: 'Tool', cell: (r) => <strong>{r.name}</strong> },
              { h: 'Server', cell: (r) => r.serverName ?? <code>{r.serverId}</code> },
              { h: 'Capabilities', cell: (r) => (r.capabilities as string[]).join(', ') || '–' },
              { h: 'Endpoints', cell: (r) => r.endpoints, class: 'num' },
              { h: 'Description variants', cell: (r) => r.descriptionVariants, class: 'num' },
              {
                h: 'Where',
                cell: (r) => (
                  <button type="button" aria-expanded={open !== null && key(open) === key(r)} onClick={() => setOpen(open && key(open) === key(r) ? null : r)}>
                    {open && key(open) === key(r) ? 'Hide endpoints' : 'Which endpoints expose this'}
                  </button>
                ),
              },
            ]}
            rows={data.items}
            rowKey={key}
          />
          <Pager nextCursor={data.nextCursor} label="Tools" />
          {open && (
            <section aria-labelledby="h-tool-where">
              <h2 id="h-tool-where">Endpoints exposing {open.name} of {open.serverName ?? open.serverId}</h2>
              <ToolEndpoints name={open.name} server={open.serverId} />
            </section>
          )}
        </>
      )}
    </>
  );
}

export function ToolCalls() {
  const q = useQuery();
  const { data, loading, error } = useApi(`/tool-calls${qs({ endpoint: q.endpoint, server: q.server, tool: q.tool, decision: q.decision, cursor: q.cursor, limit: q.limit })}`);
  return (
    <>
      <h1>Tool calls</h1>
      <p class="hint">MCP tool calls seen through client hooks, newest first: argument names only, never values.</p>
      <Filters
        label="Filter tool calls"
        fields={[
          { name: 'endpoint', label: 'Endpoint id' },
          { name: 'server', label: 'Server' },
          { name: 'tool', label: 'Tool' },
          { name: 'decision', label: 'Decision', options: ['allow', 'deny', 'ask'] },
        ]}
      />
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="Tool calls, newest first"
            columns={[
              { h: 'Time', cell: (r) => <When iso={r.time} /> },
              { h: 'Endpoint', cell: (r) => endpointLink(r.endpointId) },
              { h: 'Client', cell: (r) => `${r.client}${r.user ? ` (${r.user})` : ''}` },
              { h: 'Server', cell: (r) => r.server },
              { h: 'Tool', cell: (r) => <strong>{r.tool}</strong> },
              { h: 'Arguments', cell: (r) => (r.argumentNames as string[]).join(', ') || '–' },
              { h: 'Decision', cell: (r) => `${r.decision}${r.enforced ? '' : ' (audit)'}` },
              { h: 'Rule', cell: (r) => <code>{r.rule}</code> },
            ]}
            rows={data.items}
            rowKey={(r) => r.id}
            empty="No tool calls on this page (client hooks off, or filtered out: use Next for older calls)."
          />
          <Pager nextCursor={data.nextCursor} label="Tool calls" />
        </>
      )}
    </>
  );
}

export function Findings() {
  const q = useQuery();
  // Open findings by default (what an analyst works on); open or resolved, never both at once: the
  // store's unfiltered order is over the page budget at 100,000 endpoints (npm run bench:dashboard).
  const status = q.status === 'resolved' ? 'resolved' : 'open';
  const { data, loading, error } = useApi(`/findings${qs({ severity: q.severity, rule: q.rule, status, endpoint: q.endpoint, cursor: q.cursor, limit: q.limit })}`);
  return (
    <>
      <h1>Findings</h1>
      <Filters
        label="Filter findings"
        fields={[
          { name: 'severity', label: 'Severity', options: SEVERITIES },
          { name: 'status', label: 'Status', options: ['open', 'resolved'], defaultValue: 'open' },
          { name: 'rule', label: 'Rule' },
          { name: 'endpoint', label: 'Endpoint id' },
        ]}
      />
      <Status loading={loading} error={error} />
      {data && (
        <>
          <Table
            caption="Findings, most severe first"
            columns={[
              { h: 'Severity', cell: (r) => <Severity value={r.severity} /> },
              { h: 'Rule', cell: (r) => <code>{r.ruleId}</code> },
              { h: 'Title', cell: (r) => r.title },
              { h: 'Server', cell: (r) => r.serverName ?? '–' },
              { h: 'Status', cell: (r) => r.status },
              { h: 'Endpoint', cell: (r) => endpointLink(r.endpointId, r.hostname) },
              { h: 'First seen', cell: (r) => <When iso={r.firstSeen} /> },
              { h: 'Last seen', cell: (r) => <When iso={r.lastSeen} /> },
            ]}
            rows={data.items}
          />
          <Pager nextCursor={data.nextCursor} label="Findings" />
        </>
      )}
    </>
  );
}

/** Client processes with the server processes they launched (by parent pid), then the rest. */
function ProcessTree({ processes }: { processes: Row[] }) {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const roots = processes.filter((p) => p.kind === 'client' || !byPid.has(p.ppid));
  const children = (pid: number) => processes.filter((p) => p.ppid === pid && p !== byPid.get(pid));
  const item = (p: Row, depth: number): any => (
    <li key={p.pid}>
      <span class={`proc proc-${p.kind}`}>{p.kind}</span> <strong>{p.name}</strong> pid {p.pid}
      {p.user ? <> · user <em>{p.user}</em></> : null}
      {p.client ? <> · {p.client}</> : null}
      <div class="cmd"><code>{p.cmd}</code></div>
      {depth < 6 && children(p.pid).length > 0 && <ul>{children(p.pid).map((c) => item(c, depth + 1))}</ul>}
    </li>
  );
  if (processes.length === 0) return <p class="muted">No MCP client or server processes running.</p>;
  return <ul class="tree" aria-label="Process tree: MCP clients and the servers they launched">{roots.map((r) => item(r, 0))}</ul>;
}

function ContainButton({ endpointId, server, state, admin, onDone }: { endpointId: string; server: Row; state: Row | undefined; admin: boolean; onDone: () => void }) {
  const [msg, setMsg] = useState<string | null>(null);
  if (!admin) return <span class="muted">admin only</span>;
  const action = state?.state === 'quarantined' ? 'restore' : 'quarantine';
  const name = server.name ?? server.serverName ?? server.serverKey;
  const run = async () => {
    const reason = window.prompt(`Reason to ${action} ${name} (kept in the audit trail)`);
    if (!reason) return;
    try {
      const r = await api('POST', '/containment', { endpointId, serverKey: server.serverKey, action, reason });
      setMsg(`${action} queued (${r.commandId})`);
      onDone();
    } catch (e) {
      setMsg((e as Error).message);
    }
  };
  return (
    <>
      <button type="button" class={action === 'quarantine' ? 'danger' : ''} onClick={run} disabled={Boolean(state?.pending)} aria-label={`${action === 'quarantine' ? 'Quarantine' : 'Restore'} ${name}`}>
        {action === 'quarantine' ? 'Quarantine' : 'Restore'}
      </button>
      {msg && <span role="status"> {msg}</span>}
    </>
  );
}

export function Endpoint({ me }: { me: { scope: string } }) {
  const { params } = useRoute();
  const id = params.id as string;
  const { data, loading, error, reload } = useApi(`/endpoints/${enc(id)}`);
  if (!data) return <><h1>Endpoint</h1><Status loading={loading} error={error} /></>;
  const e = data.endpoint;
  const stateText = (s: Row | null) => (!s ? 'in effect' : s.pending ? `${s.state === 'none' ? 'in effect' : s.state}, ${s.pending.action} pending` : s.state === 'quarantined' ? 'quarantined' : 'in effect');
  const gone = (data.containment as Row[]).filter((s) => !s.inInventory);
  const tools: Row[] = [...(data.servers as Row[]).flatMap((srv) => srv.tools.map((t: Row) => ({ ...t, entry: srv.name }))), ...(data.otherTools as Row[]).map((t) => ({ ...t, entry: null }))];
  return (
    <>
      <h1>{e.hostname}</h1>
      <dl class="facts">
        <dt>Endpoint</dt><dd><code>{e.endpointId}</code></dd>
        <dt>OS</dt><dd>{e.platform} {e.osName} {e.osRelease} {e.arch}</dd>
        <dt>Users</dt><dd>{(e.users ?? []).join(', ') || '–'}</dd>
        <dt>Agent</dt><dd>{e.agentVersion ?? '–'}</dd>
        <dt>Last seen</dt><dd><When iso={e.lastSeen} /></dd>
      </dl>
      <section aria-labelledby="h-clients">
        <h2 id="h-clients">MCP clients</h2>
        <Table caption="Clients on this endpoint" columns={[{ h: 'Client', cell: (r) => r.displayName ?? r.client }, { h: 'User', cell: (r) => r.user ?? '–' }, { h: 'Servers', cell: (r) => r.serverCount, class: 'num' }]} rows={data.clients} />
      </section>
      <section aria-labelledby="h-servers">
        <h2 id="h-servers">Servers</h2>
        <Table
          caption="Configured MCP servers and their effective state"
          columns={[
            { h: 'Name', cell: (r) => r.name },
            { h: 'Client', cell: (r) => `${r.client} (${r.scope})` },
            { h: 'Runs', cell: (r) => <code>{r.url ?? [r.command, ...(r.args ?? [])].join(' ')}</code> },
            { h: 'Effective state', cell: (r) => (r.disabled ? 'disabled in config' : stateText(r.containment)) },
            { h: 'Tools', cell: (r) => r.tools.length, class: 'num' },
            { h: 'Containment', cell: (r) => <Containment state={r.containment} /> },
            { h: 'Action', cell: (r) => <ContainButton endpointId={e.endpointId} server={r} state={r.containment ?? undefined} admin={me.scope === 'admin'} onDone={reload} /> },
          ]}
          rows={data.servers}
          rowKey={(r) => r.serverKey}
        />
        {gone.length > 0 && (
          <Table
            caption="Contained servers no longer in the inventory (a quarantine takes the entry out of its config)"
            columns={[
              { h: 'Name', cell: (r) => r.serverName ?? <code>{r.serverKey}</code> },
              { h: 'Client', cell: (r) => r.client ?? '–' },
              { h: 'Containment', cell: (r) => <Containment state={r} /> },
              { h: 'Action', cell: (r) => <ContainButton endpointId={e.endpointId} server={{ serverKey: r.serverKey, serverName: r.serverName }} state={r} admin={me.scope === 'admin'} onDone={reload} /> },
            ]}
            rows={gone}
            rowKey={(r) => r.serverKey}
          />
        )}
      </section>
      <section aria-labelledby="h-tools">
        <h2 id="h-tools">Tools</h2>
        <Table
          caption="Tools of the MCP servers on this endpoint"
          columns={[
            { h: 'Server', cell: (r) => r.entry ?? `${r.serverName ?? r.serverId} (not configured)` },
            { h: 'Tool', cell: (r) => <><strong>{r.name}</strong>{r.title ? <div class="muted">{r.title}</div> : null}</> },
            { h: 'Annotations', cell: (r) => Object.entries(r.annotations as Record<string, boolean>).map(([k, v]) => `${k}: ${v}`).join(', ') || '–' },
            { h: 'Capabilities', cell: (r) => (r.capabilities as string[]).join(', ') || '–' },
            { h: 'Description / schema hash', cell: (r) => <code title={`description ${r.descriptionSha256 ?? '–'}, input schema ${r.inputSchemaSha256 ?? '–'}, annotations ${r.annotationsSha256 ?? '–'}`}>{(r.descriptionSha256 ?? '–').slice(0, 12)} / {(r.inputSchemaSha256 ?? '–').slice(0, 12)}</code> },
            { h: 'First seen', cell: (r) => <When iso={r.pin.firstSeen} /> },
            { h: 'Pin', cell: (r) => (r.pin.state === 'pinned' ? 'matches first seen' : <span class="error">changed without a version</span>) },
            { h: 'Open findings', cell: (r) => (r.openFindings.length === 0 ? '–' : (r.openFindings as Row[]).map((f) => <div key={f.id}><Severity value={f.severity} /> <code>{f.ruleId}</code></div>)) },
          ]}
          rows={tools}
          rowKey={(r) => `${r.serverId}\u0000${r.serverKey ?? ''}\u0000${r.entry ?? ''}\u0000${r.name}`}
          empty="No tools reported for this endpoint's servers."
        />
      </section>
      <section aria-labelledby="h-procs">
        <h2 id="h-procs">Process tree</h2>
        <ProcessTree processes={data.processes} />
      </section>
      <section aria-labelledby="h-sockets">
        <h2 id="h-sockets">Sockets</h2>
        <Table
          caption="Sockets of MCP processes"
          columns={[
            { h: 'Process', cell: (r) => `${r.processName} (${r.pid})` },
            { h: 'Kind', cell: (r) => r.kind },
            { h: 'Local', cell: (r) => `${r.localAddress}:${r.localPort}` },
            { h: 'Peer', cell: (r) => (r.peerAddress ? `${r.peerAddress}:${r.peerPort ?? ''}` : '–') },
            { h: 'All interfaces', cell: (r) => (r.allInterfaces ? 'yes' : 'no') },
          ]}
          rows={data.sockets}
        />
      </section>
      <section aria-labelledby="h-findings">
        <h2 id="h-findings">Findings</h2>
        <Table
          caption="Findings on this endpoint"
          columns={[{ h: 'Severity', cell: (r) => <Severity value={r.severity} /> }, { h: 'Rule', cell: (r) => <code>{r.ruleId}</code> }, { h: 'Title', cell: (r) => r.title }, { h: 'Status', cell: (r) => r.status }, { h: 'First seen', cell: (r) => <When iso={r.firstSeen} /> }]}
          rows={data.findings}
        />
      </section>
      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">Timeline</h2>
        <ol class="timeline" aria-label="Recent events, newest first">
          {(data.recentEvents as Row[]).map((ev) => (
            <li key={ev.id}><When iso={ev.time} /> <code>{ev.type}</code></li>
          ))}
        </ol>
      </section>
    </>
  );
}

export function Login({ onSignedIn }: { onSignedIn: (me: { name: string; scope: string }) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { route } = useLocation();
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    const token = String(new FormData(form).get('token') ?? '');
    setBusy(true);
    setError(null);
    try {
      const { csrfToken } = await api('GET', '/csrf');
      const { setCsrf } = await import('./api');
      setCsrf(csrfToken);
      const me = await api('POST', '/session', { token });
      setCsrf(me.csrfToken);
      form.reset();
      onSignedIn(me);
      route('/ui/');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="login">
      <h1>Sign in to mcpwatch</h1>
      <p>Use an API token (scope read or admin). It is exchanged for a session cookie and not kept in this browser.</p>
      <form onSubmit={submit}>
        <label>
          <span>API token</span>
          <input name="token" type="password" autoComplete="off" required />
        </label>
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}
