/**
 * A local stand-in for the Anthropic Messages API (POST /v1/messages, streamed or not), for
 * driving a real Claude Code (`claude -p`) in tests: when the request offers the tool named by
 * `toolToCall` and holds no tool result yet, the "model" answers with one tool_use of it (input
 * `toolInput`); once a tool result is in the conversation it answers with text quoting it. Any
 * other request (titles, summaries) gets a short text. Every request body is kept (`requests`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export class FakeAnthropicApi {
  readonly requests: Json[] = [];
  private server: http.Server | null = null;
  constructor(private readonly toolToCall: string, private readonly toolInput: Json) {}

  async listen(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        let json: Json = {};
        try {
          json = JSON.parse(body || '{}') as Json;
        } catch {
          json = {};
        }
        if (req.method !== 'POST' || !(req.url ?? '').startsWith('/v1/messages')) {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not here' } }));
          return;
        }
        if ((req.url ?? '').startsWith('/v1/messages/count_tokens')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 10 }));
          return;
        }
        this.requests.push(json);
        this.answer(json, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The tool_result blocks Claude Code sent back, as text. */
  toolResults(): { isError: boolean; text: string }[] {
    const out: { isError: boolean; text: string }[] = [];
    for (const r of this.requests) {
      for (const m of (r.messages as Json[] | undefined) ?? []) {
        if (!Array.isArray(m.content)) continue;
        for (const b of m.content as Json[]) {
          if (b.type !== 'tool_result') continue;
          const text = typeof b.content === 'string' ? b.content : JSON.stringify(b.content);
          out.push({ isError: b.is_error === true, text });
        }
      }
    }
    return out;
  }

  private answer(req: Json, res: http.ServerResponse): void {
    const tools = ((req.tools as Json[] | undefined) ?? []).map((t) => t.name);
    const messages = (req.messages as Json[] | undefined) ?? [];
    const hasResult = messages.some((m) => Array.isArray(m.content) && (m.content as Json[]).some((b) => b.type === 'tool_result'));
    const model = typeof req.model === 'string' ? req.model : 'claude-sonnet-4-5';
    const content: Json[] =
      tools.includes(this.toolToCall) && !hasResult
        ? [{ type: 'tool_use', id: `toolu_${Date.now().toString(36)}`, name: this.toolToCall, input: this.toolInput }]
        : [{ type: 'text', text: hasResult ? 'The tool answered.' : 'ok' }];
    const stopReason = content[0]!.type === 'tool_use' ? 'tool_use' : 'end_turn';
    const message = { id: `msg_${Date.now().toString(36)}`, type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 5 } };
    if (req.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: string, data: Json) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } });
    content.forEach((block, index) => {
      if (block.type === 'tool_use') {
        send('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } });
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
      } else {
        send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
      }
      send('content_block_stop', { type: 'content_block_stop', index });
    });
    send('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 5 } });
    send('message_stop', { type: 'message_stop' });
    res.end();
  }
}
