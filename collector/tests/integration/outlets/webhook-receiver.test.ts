/**
 * The webhook tests' receiver (tests/support/webhook-receiver.ts) keeps only POSTs to its own URL.
 * Other processes on the machine reach its port too: an mcpwatch agent with the sockets source
 * POSTs an MCP preflight ping to every local listener (seen as unsigned "deliveries" that made
 * containment-notifier.test.ts fail its every-delivery-is-signed check). Those, and any other
 * request not to the URL, are answered 404, not kept and not counted by `answer`.
 */
import { webhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

const PING = JSON.stringify({ jsonrpc: '2.0', id: 'mcpwatch-preflight', method: 'ping' });

describe('webhook test receiver', () => {
  let rx: WebhookReceiver | undefined;
  afterEach(async () => {
    await rx?.close();
    rx = undefined;
  });

  test('requests that are not a POST to its URL are answered 404, neither kept nor counted', async () => {
    const answers: number[] = [];
    rx = await webhookReceiver((n) => {
      answers.push(n);
      return { status: 200 };
    });
    const url = new URL(rx.url);
    expect(url.pathname).toMatch(/^\/hook\/[0-9a-f]{32}$/);
    const post = (path: string, body: string) => fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    // The agent's MCP preflight, on the paths it probes; the receiver's old fixed path; the URL
    // with a query; a GET of the URL.
    for (const path of ['/mcp', '/', '/sse', '/hook', `${url.pathname}?x=1`]) {
      const res = await post(path, PING);
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect((await fetch(url)).status).toBe(404);
    expect(rx.got).toEqual([]);
    expect(answers).toEqual([]);
    // (arrayContaining: a process probing local ports may add its own strays meanwhile.)
    expect(rx.strays).toEqual(
      expect.arrayContaining([
        { method: 'POST', path: '/mcp' },
        { method: 'POST', path: '/' },
        { method: 'POST', path: '/sse' },
        { method: 'POST', path: '/hook' },
        { method: 'POST', path: `${url.pathname}?x=1` },
        { method: 'GET', path: url.pathname },
      ]),
    );

    // A POST to the URL is a delivery: the first one `answer` sees, kept with its bytes and headers.
    const res = await fetch(rx.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-test': 'kept' }, body: '{"notifications":[]}' });
    expect(res.status).toBe(200);
    expect(answers).toEqual([0]);
    expect(rx.got).toHaveLength(1);
    expect(rx.got[0]).toMatchObject({ raw: '{"notifications":[]}', body: { notifications: [] }, headers: { 'x-test': 'kept' } });
  });
});
