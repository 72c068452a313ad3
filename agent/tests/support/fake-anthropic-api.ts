/**
 * A local stand-in for the Anthropic Messages API (POST /v1/messages, streamed or not), for
 * driving a real Claude Code (`claude -p`) in tests: when the request offers the tool named by
 * `toolToCall` and holds no tool result yet, the "model" answers with one tool_use of it (input
 * `toolInput`); once a tool result is in the conversation it answers with text quoting it. Any
 * other request (titles, summaries) gets a short text. Every request body is kept (`requests`).
 */
import type http from 'node:http';
import { FakeModelApi, type Json } from './fake-model-api.js';

export class FakeAnthropicApi extends FakeModelApi {
  readonly requests: Json[] = [];
  constructor(private readonly toolToCall: string, private readonly toolInput: Json) {
    super();
  }

  protected handle(method: string, url: string, json: Json, res: http.ServerResponse): void {
    if (method !== 'POST' || !url.startsWith('/v1/messages')) {
      this.sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'not here' } });
      return;
    }
    if (url.startsWith('/v1/messages/count_tokens')) {
      this.sendJson(res, 200, { input_tokens: 10 });
      return;
    }
    this.requests.push(json);
    this.answer(json, res);
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
      this.sendJson(res, 200, message);
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
