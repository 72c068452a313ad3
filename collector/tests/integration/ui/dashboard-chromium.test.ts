/**
 * The dashboard in real headless Chromium (playwright-core, Debian's /usr/bin/chromium) against a
 * collector holding agent data sent through the batch protocol by the testkit's TestAgent: sign-in,
 * every page (tools and tool calls too), filters, server-side pagination, "which endpoints run
 * this" / "which endpoints expose this", an endpoint drill-down
 * (clients, servers with effective state and containment, tools with pin and finding state,
 * process tree, sockets, findings, timeline), a read token that cannot reach admin actions, an
 * admin quarantine from the endpoint page and its state on the endpoint and servers pages (pending,
 * then quarantined and gone from the inventory, then a restore), logout; axe-core on
 * every page with no serious or critical violations; a screenshot of each page in
 * test-output/ui-screenshots (the path is printed).
 * Skipped, saying so, when Chromium is not installed (outside CI; .ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { makeEvent } from '@mcpwatch/shared';
import { makeServerEntry, waitFor, type TestAgent } from '@mcpwatch/testkit';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { makeFixture, type Fixture } from '../../support/collector-fixture.js';

const CHROMIUM = process.env.MCPWATCH_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (process.env.CI === 'true') throw new Error(`CI=true and no Chromium at ${CHROMIUM}: .ci/run installs it`);
  console.warn(`SKIPPED dashboard Chromium tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
}
const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../../../..');
const SHOTS = join(REPO, 'test-output', 'ui-screenshots');
const ADMIN = 'bootstrap-admin-token-0123456789';

const d = HAVE_CHROMIUM ? describe : describe.skip;

// playwright-core has no auto-waiting assertions (those are @playwright/test's): wait on conditions.
const WAIT_MS = 30_000;
// A whole browser session (a dozen pages, axe on each) on a loaded 2-core machine: a budget, not an assertion.
const BROWSER_TEST_MS = 240_000;
const textOf = async (l: Locator) => ((await l.count()) === 0 ? '' : (await l.allInnerTexts()).join('\n'));
const hasCount = (l: Locator, n: number) => waitFor(`${n} of ${l}`, async () => (await l.count()) === n, WAIT_MS);
const contains = (l: Locator, text: string) => waitFor(`${l} to contain ${text}`, async () => (await textOf(l)).includes(text), WAIT_MS);
const isText = (l: Locator, text: string) => waitFor(`${l} to read ${text}`, async () => (await textOf(l)) === text, WAIT_MS);
const isNotText = (l: Locator, text: string) => waitFor(`${l} to change from ${text}`, async () => { const t = await textOf(l); return t !== '' && t !== text; }, WAIT_MS);

async function seed(fx: Fixture): Promise<{ alice: TestAgent; bob: TestAgent; github: ReturnType<typeof makeServerEntry>; shell: ReturnType<typeof makeServerEntry> }> {
  const github = makeServerEntry('github', { package: { ecosystem: 'npm', name: '@modelcontextprotocol/server-github', version: '2025.4.8', pinned: true, runner: 'npx' } as never });
  const shell = makeServerEntry('shell', { package: { ecosystem: 'npm', name: 'shell-mcp', version: null, pinned: false, runner: 'npx' } as never });
  const alice = await fx.enroll({ hostname: 'mac-alice', platform: 'darwin', osName: 'macOS', osRelease: '15.1', arch: 'arm64', hardwareUuid: 'hw-alice', users: ['alice'] } as never);
  const bob = await fx.enroll({ hostname: 'linux-bob', platform: 'linux', osName: 'Ubuntu', osRelease: '24.04', arch: 'x64', hardwareUuid: 'hw-bob', users: ['bob'] } as never);
  const now = new Date(fx.clock.nowMs);
  const finding = (id: string, ruleId: string, severity: string, title: string, server: string) => ({ id, ruleId, severity, title, description: title, subject: { serverName: server, client: 'claude-desktop' }, evidence: { field: 'env.GITHUB_TOKEN', kind: 'github-token' } });
  const tool = (srv: ReturnType<typeof makeServerEntry>, name: string, title: string | null, capabilities: string[], annotations: Record<string, boolean>) => ({
    serverId: srv.fingerprint, serverKey: srv.serverKey, serverName: srv.name, serverVersion: '1.0.0', protocolVersion: '2025-06-18', source: 'probe', sourcePath: null,
    name, title, descriptionSha256: 'd'.repeat(64), inputSchemaSha256: 'e'.repeat(64), annotationsSha256: 'f'.repeat(64), annotations, instructionsSha256: null, capabilities,
  }) as never;
  const client = (c: string, name: string, user: string, n: number) => ({ client: c, displayName: name, user, configPaths: [`/Users/${user}/.config/${c}.json`], serverCount: n });
  await alice.sendEvents([
    makeEvent('inventory.snapshot', alice.endpointId, {
      host: alice.host,
      clients: [client('claude-desktop', 'Claude Desktop', 'alice', 2), client('cursor', 'Cursor', 'alice', 0)],
      servers: [github, shell],
      processes: [
        { pid: 100, ppid: 1, name: 'Claude', cmd: '/Applications/Claude.app/Contents/MacOS/Claude', user: 'alice', kind: 'client', client: 'claude-desktop', serverKey: null, match: null, startedAt: now.toISOString() },
        { pid: 200, ppid: 100, name: 'node', cmd: 'node /usr/local/lib/node_modules/shell-mcp/index.js', user: 'alice', kind: 'server', client: 'claude-desktop', serverKey: shell.serverKey, match: 'config', startedAt: now.toISOString() },
      ],
      sockets: [{ pid: 200, processName: 'node', protocol: 'tcp', localAddress: '0.0.0.0', localPort: 7777, peerAddress: null, peerPort: null, kind: 'listen', allInterfaces: true, serverKey: shell.serverKey, client: 'claude-desktop' }],
      findings: [
        finding('f-shell', 'shell-exec', 'high', 'Server can run shell commands', 'shell') as never,
        finding('f-float', 'floating-version', 'low', 'Floating package version', 'shell') as never,
        { id: 'f-rug', ruleId: 'tool-changed-without-version', severity: 'high', title: 'Tool run_command of shell changed without a version change', description: 'd', subject: { serverKey: shell.serverKey, serverName: 'shell' }, evidence: { field: 'tool.run_command', kind: 'description' } } as never,
      ],
      errors: [],
    } as never, now),
    makeEvent('tool.added', alice.endpointId, tool(shell, 'run_command', 'Run a command', ['shell-exec'], { destructiveHint: true }), now),
    makeEvent('tool.added', alice.endpointId, tool(shell, 'read_log', null, [], { readOnlyHint: true }), now),
    makeEvent('tool.called', alice.endpointId, {
      client: 'claude-code', user: 'alice', phase: 'pre', server: 'shell', tool: 'run_command', argumentNames: ['command', 'cwd'],
      decision: 'deny', enforced: true, mode: 'enforce', rule: 'blocked-tool', calledAt: now.toISOString(),
    } as never, now),
    makeEvent('agent.heartbeat', alice.endpointId, { version: '0.1.0', uptimeS: 5, cpuPercent: 0.1, rssBytes: 5e7, spoolBytes: 0, spoolDepth: 0, droppedCount: 0, lastError: null, intervalsMs: { process: 5000 }, throttled: false }, now),
  ]);
  await bob.sendEvents([
    makeEvent('inventory.snapshot', bob.endpointId, { host: bob.host, clients: [client('claude-code', 'Claude Code', 'bob', 1)], servers: [{ ...github, user: 'bob' }], processes: [], sockets: [], findings: [finding('f-env', 'secret-in-env', 'medium', 'Token in server environment', 'github') as never], errors: [] } as never, now),
  ]);
  await waitFor('the projected inventory', async () => ((await fx.app.inject({ url: '/v1/findings', headers: { authorization: `Bearer ${ADMIN}` } })).json().items ?? []).length >= 4
    && ((await fx.app.inject({ url: '/v1/tools', headers: { authorization: `Bearer ${ADMIN}` } })).json().items ?? []).length === 2);
  return { alice, bob, github, shell };
}

d('dashboard in headless Chromium', () => {
  let fx: Fixture;
  let browser: Browser;
  let base: string;
  let readToken: string;
  let data: Awaited<ReturnType<typeof seed>>;
  const shots: string[] = [];

  beforeAll(async () => {
    const ui = resolve(here, '../../../dist/ui/index.html');
    if (!existsSync(ui)) execFileSync(process.execPath, [resolve(here, '../../../scripts/build-ui.mjs')], { stdio: 'inherit' });
    mkdirSync(SHOTS, { recursive: true });
    fx = await makeFixture({ overrides: { adminToken: ADMIN } });
    fx.clock.nowMs = Date.now();
    data = await seed(fx);
    readToken = (await fx.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: 'analyst', scope: 'read' } })).json().token;
    base = await fx.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  afterAll(async () => {
    await browser?.close();
    await fx?.close();
    if (shots.length) process.stdout.write(`\ndashboard screenshots (${shots.length}) written to ${SHOTS}\n`);
  });

  async function check(page: Page, name: string) {
    const results = await new AxeBuilder({ page }).analyze();
    const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`)).toEqual([]);
    const file = join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    shots.push(file);
  }

  async function signIn(page: Page, token: string) {
    await page.goto(`${base}/ui/`);
    await page.waitForURL(/\/ui\/login$/);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
  }

  test('read token: sign-in, every page, filters, pagination, drill-down, no admin actions, logout', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${base}/ui/`);
    await page.waitForURL(/\/ui\/login$/);
    await page.getByRole('heading', { name: 'Sign in to mcpwatch' }).waitFor();
    await check(page, '01-sign-in');
    await page.getByLabel('API token').fill('not-a-valid-token-123');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /unknown or revoked/ }).waitFor();

    await signIn(page, readToken);
    // The token is nowhere in the page's reach: not in the URL, storage or a script-readable cookie.
    expect(page.url()).not.toContain(readToken);
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie)).not.toMatch(/mcpw_/);
    const cookie = (await context.cookies()).find((c) => c.name === 'mcpw_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
    expect(cookie.value).not.toContain(readToken);

    // Overview: counts, charts, tables.
    await isText(page.locator('.card .big').first(), '2');
    await contains(page.locator('.card').first(), 'endpoints');
    await page.locator('svg.bars').first().waitFor();
    await page.locator('.timechart canvas').waitFor();
    await contains(page.getByRole('table', { name: 'Most prevalent MCP servers' }), 'github');
    await check(page, '02-overview');

    // Servers: filter by name, then "which endpoints run this".
    await page.getByRole('link', { name: 'Servers' }).click();
    await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor();
    await hasCount(page.getByRole('table', { name: 'MCP servers across the fleet' }).locator('tbody tr'), 2);
    await page.getByLabel('Name').fill('github');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/name=github/);
    const servers = page.getByRole('table', { name: 'MCP servers across the fleet' });
    await hasCount(servers.locator('tbody tr'), 1);
    await contains(servers, 'pinned');
    await servers.getByRole('button', { name: 'Which endpoints run this' }).click();
    const who = page.getByRole('table', { name: 'Endpoints that run this server' });
    await hasCount(who.locator('tbody tr'), 2);
    await contains(who, 'mac-alice');
    await contains(who, 'linux-bob');
    await check(page, '03-servers');

    // Endpoints: server-side pagination (one per page), then a filter.
    await page.goto(`${base}/ui/endpoints?limit=1`);
    const eps = page.getByRole('table', { name: 'Endpoints' });
    await hasCount(eps.locator('tbody tr'), 1);
    const first = await eps.locator('tbody tr').innerText();
    await page.getByRole('button', { name: 'Next →' }).click();
    await hasCount(eps.locator('tbody tr'), 1);
    await isNotText(eps.locator('tbody tr'), first);
    await page.getByRole('button', { name: '← Previous' }).click();
    await isText(eps.locator('tbody tr'), first);
    await page.goto(`${base}/ui/endpoints`);
    // The page has rendered its data (both endpoints) before the filter is typed, so a late render
    // cannot reset the field under a loaded machine.
    await hasCount(eps.locator('tbody tr'), 2);
    await page.getByLabel('Hostname').fill('bob');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await hasCount(eps.locator('tbody tr'), 1);
    await contains(eps, 'linux-bob');
    await check(page, '04-endpoints');

    // Tools: fleet-wide with prevalence and capabilities, a filter, then "which endpoints expose this".
    await page.getByRole('link', { name: 'Tools', exact: true }).click();
    const fleetTools = page.getByRole('table', { name: 'MCP tools across the fleet' });
    await contains(fleetTools, 'run_command');
    await contains(fleetTools, 'read_log');
    await page.getByLabel('Capability').selectOption('shell-exec');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await waitFor('only the shell-exec tool', async () => { const t = await textOf(fleetTools); return t.includes('run_command') && !t.includes('read_log'); }, WAIT_MS);
    await hasCount(fleetTools.locator('tbody tr'), 1);
    await fleetTools.getByRole('button', { name: 'Which endpoints expose this' }).click();
    await contains(page.getByRole('table', { name: 'Endpoints that expose this tool' }), 'mac-alice');
    await check(page, '05a-tools');

    // Tool calls: argument names, the decision, a filter.
    await page.getByRole('link', { name: 'Tool calls' }).click();
    const calls = page.getByRole('table', { name: 'Tool calls, newest first' });
    await hasCount(calls.locator('tbody tr'), 1);
    await contains(calls, 'command, cwd');
    await contains(calls, 'deny');
    await page.getByLabel('Decision').selectOption('allow');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await contains(calls, 'No tool calls on this page');
    await check(page, '05b-tool-calls');

    // Findings: filter by severity, then the link to the endpoint.
    await page.getByRole('link', { name: 'Findings' }).click();
    const findings = page.getByRole('table', { name: 'Findings, most severe first' });
    // Open by default. (The collector's tool-call analytics may add findings of their own for the
    // seeded tool call, on their own schedule: the seeded ones are checked by content.)
    for (const rule of ['shell-exec', 'floating-version', 'secret-in-env', 'tool-changed-without-version']) await contains(findings, rule);
    await page.getByLabel('Severity').selectOption('high');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await waitFor('only high findings and above', async () => { const t = await textOf(findings); return t.includes('shell-exec') && t.includes('tool-changed-without-version') && !t.includes('floating-version') && !t.includes('secret-in-env'); }, WAIT_MS);
    await check(page, '05-findings');
    await findings.getByRole('link', { name: 'mac-alice' }).first().click();

    // Endpoint drill-down.
    await page.getByRole('heading', { name: 'mac-alice' }).waitFor();
    await contains(page.getByRole('table', { name: 'Clients on this endpoint' }), 'Claude Desktop');
    const srv = page.getByRole('table', { name: 'Configured MCP servers and their effective state' });
    await hasCount(srv.locator('tbody tr'), 2);
    await contains(srv, 'in effect');
    await contains(srv, 'admin only');
    await hasCount(srv.getByRole('button', { name: 'Quarantine' }), 0);
    const tree = page.getByRole('list', { name: /Process tree/ });
    await hasCount(tree.locator(':scope > li'), 1);
    await contains(tree.locator(':scope > li > ul > li'), 'shell-mcp');
    await contains(page.getByRole('table', { name: 'Sockets of MCP processes' }), '0.0.0.0:7777');
    for (const rule of ['shell-exec', 'floating-version', 'tool-changed-without-version']) await contains(page.getByRole('table', { name: 'Findings on this endpoint' }), rule);
    // Tools of the endpoint's servers: annotations, capabilities, hashes, first seen, pin, open findings.
    const tools = page.getByRole('table', { name: 'Tools of the MCP servers on this endpoint' });
    await hasCount(tools.locator('tbody tr'), 2);
    const runCommand = tools.locator('tbody tr').filter({ hasText: 'run_command' });
    await contains(runCommand, 'destructiveHint: true');
    await contains(runCommand, 'shell-exec');
    await contains(runCommand, 'changed without a version');
    await contains(runCommand, 'tool-changed-without-version');
    await contains(runCommand, 'dddddddddddd');
    const readLog = tools.locator('tbody tr').filter({ hasText: 'read_log' });
    await contains(readLog, 'matches first seen');
    await contains(readLog, 'readOnlyHint: true');
    await contains(srv.locator('tbody tr').filter({ hasText: 'shell' }), 'not contained');
    await contains(page.getByRole('list', { name: /Recent events/ }), 'inventory.snapshot');
    await contains(page.getByRole('list', { name: /Recent events/ }), 'tool.called');
    await check(page, '06-endpoint');

    // A read session cannot reach admin actions even by calling the API itself.
    const status = await page.evaluate(async ([endpointId, serverKey]) => {
      const s = await (await fetch('/ui/api/session')).json();
      const r = await fetch('/ui/api/containment', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken }, body: JSON.stringify({ endpointId, serverKey, action: 'quarantine', reason: 'x' }) });
      return r.status;
    }, [data.alice.endpointId, data.shell.serverKey]);
    expect(status).toBe(403);

    // Logout.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/ui\/login$/);
    expect(await page.evaluate(async () => (await fetch('/ui/api/overview')).status)).toBe(401);
    await page.goto(`${base}/ui/findings`);
    await page.waitForURL(/\/ui\/login$/);
    expect(errors).toEqual([]);
    await context.close();
  }, BROWSER_TEST_MS);

  test('admin token: quarantine from the endpoint page goes to the audit trail; its state shows on the endpoint and servers pages until restored', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, ADMIN);
    await page.goto(`${base}/ui/endpoints/${data.alice.endpointId}`);
    const srv = page.getByRole('table', { name: 'Configured MCP servers and their effective state' });
    const row = srv.locator('tbody tr').filter({ hasText: 'shell' });
    page.once('dialog', (dlg) => void dlg.accept('shell access from a floating package'));
    await row.getByRole('button', { name: 'Quarantine' }).click();
    await contains(row, 'quarantine pending');
    const trail = (await fx.app.inject({ url: `/v1/admin/containment?endpoint=${data.alice.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json();
    expect(trail.items[0]).toMatchObject({ action: 'quarantine', serverKey: data.shell.serverKey, reason: 'shell access from a floating package', actor: { name: 'bootstrap (dashboard)' }, status: 'queued' });
    const commandId = trail.items[0].commandId as string;
    // The pending command with its id and who issued it.
    await contains(row, commandId);
    await contains(row, 'bootstrap (dashboard)');
    await check(page, '07-endpoint-admin-quarantine');

    // Servers page: the group counts its pending entry; "which endpoints run this" shows it per endpoint.
    await page.goto(`${base}/ui/servers?name=shell`);
    const servers = page.getByRole('table', { name: 'MCP servers across the fleet' });
    await hasCount(servers.locator('tbody tr'), 1);
    await contains(servers, '1 pending');
    await servers.getByRole('button', { name: 'Which endpoints run this' }).click();
    const who = page.getByRole('table', { name: 'Endpoints that run this server' });
    await contains(who, 'quarantine pending');
    await contains(who, commandId);

    // The agent confirms: quarantined on the servers page.
    const at = new Date(fx.clock.nowMs);
    expect((await data.alice.sendEvents([makeEvent('server.quarantined', data.alice.endpointId, { commandId, serverKey: data.shell.serverKey, configPath: data.shell.configPath }, at)])).status).toBe(200);
    await page.goto(`${base}/ui/servers?name=shell`);
    await contains(servers, '1 quarantined');
    await check(page, '08-servers-contained');
    // The entry is gone from its config (the agent's next report): listed apart, with a Restore button.
    expect((await data.alice.sendEvents([makeEvent('server.removed', data.alice.endpointId, data.shell, at)])).status).toBe(200);
    await waitFor('shell gone from the inventory', async () =>
      !((await fx.app.inject({ url: `/v1/endpoints/${data.alice.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json().servers as Array<{ name: string }>).some((x) => x.name === 'shell'));
    await page.goto(`${base}/ui/endpoints/${data.alice.endpointId}`);
    const gone = page.getByRole('table', { name: /Contained servers no longer in the inventory/ });
    const goneRow = gone.locator('tbody tr').filter({ hasText: 'shell' });
    await contains(goneRow, 'quarantined');
    await contains(goneRow, commandId);
    await hasCount(srv.locator('tbody tr'), 1);
    await check(page, '09-endpoint-quarantined');
    page.once('dialog', (dlg) => void dlg.accept('reviewed: safe'));
    await goneRow.getByRole('button', { name: 'Restore' }).click();
    await contains(goneRow, 'restore pending');
    const after = (await fx.app.inject({ url: `/v1/admin/containment?endpoint=${data.alice.endpointId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json();
    expect(after.items[0]).toMatchObject({ action: 'restore', serverKey: data.shell.serverKey, reason: 'reviewed: safe', status: 'queued' });
    await context.close();
  }, BROWSER_TEST_MS);
});
