/**
 * A local stand-in for the Gemini API (POST /v1beta/models/<model>:generateContent and
 * :streamGenerateContent?alt=sse, :countTokens), for driving a real Gemini CLI (`gemini -p`)
 * pointed at it with GOOGLE_GEMINI_BASE_URL: when the request declares the function named by
 * `toolToCall` and its contents hold no functionResponse yet, the "model" answers with one
 * functionCall of it (args `toolArgs`); once a functionResponse is in the conversation it answers
 * with text. A request for JSON (Gemini CLI's model router and other utility calls set
 * generationConfig.responseMimeType and a schema) gets the smallest instance of its schema, since
 * the client retries anything else with back-off for over a minute. Any other request gets a short
 * text. Every generate request body is kept (`requests`).
 */
import type http from 'node:http';
import { FakeModelApi, type Json } from './fake-model-api.js';

export class FakeGeminiApi extends FakeModelApi {
  readonly requests: Json[] = [];
  /** The functionCalls the stand-in model made (names), in order. */
  readonly calls: string[] = [];
  constructor(private readonly toolToCall: string, private readonly toolArgs: Json) {
    super();
  }

  protected handle(httpMethod: string, url: string, json: Json, res: http.ServerResponse): void {
    const method = /^\/v1(?:beta|alpha)?\/models\/[^/:]+:(\w+)/.exec(url)?.[1];
    if (httpMethod !== 'POST' || !method) {
      this.sendJson(res, 404, { error: { code: 404, message: 'not here', status: 'NOT_FOUND' } });
      return;
    }
    if (method === 'countTokens') {
      this.sendJson(res, 200, { totalTokens: 10 });
      return;
    }
    if (method !== 'generateContent' && method !== 'streamGenerateContent') {
      this.sendJson(res, 404, { error: { code: 404, message: `no ${method} here`, status: 'NOT_FOUND' } });
      return;
    }
    this.requests.push(json);
    const answer = this.answer(json);
    if (method === 'generateContent') {
      this.sendJson(res, 200, answer);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(`data: ${JSON.stringify(answer)}\r\n\r\n`);
  }

  /** The functionResponse parts Gemini CLI sent back, each with its response as text. */
  functionResponses(): { name: string; text: string }[] {
    const out: { name: string; text: string }[] = [];
    const seen = new Set<string>();
    for (const r of this.requests) {
      for (const c of (r.contents as Json[] | undefined) ?? []) {
        for (const p of (c.parts as Json[] | undefined) ?? []) {
          const fr = p.functionResponse as Json | undefined;
          if (!fr) continue;
          const item = { name: String(fr.name), text: JSON.stringify(fr.response) };
          // Later requests repeat the conversation so far: each response once.
          const key = `${String(fr.id ?? '')}\u0000${item.name}\u0000${item.text}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(item);
        }
      }
    }
    return out;
  }

  private answer(req: Json): Json {
    const declared = new Set<string>();
    for (const t of (req.tools as Json[] | undefined) ?? []) {
      for (const d of (t.functionDeclarations as Json[] | undefined) ?? []) declared.add(String(d.name));
    }
    const config = (req.generationConfig as Json | undefined) ?? {};
    if (config.responseMimeType === 'application/json') {
      const schema = (config.responseJsonSchema ?? config.responseSchema ?? {}) as Json;
      return this.reply({ text: JSON.stringify(smallestInstance(schema)) });
    }
    const contents = (req.contents as Json[] | undefined) ?? [];
    const hasResponse = contents.some((c) => ((c.parts as Json[] | undefined) ?? []).some((p) => p.functionResponse !== undefined));
    let part: Json;
    if (declared.has(this.toolToCall) && !hasResponse) {
      this.calls.push(this.toolToCall);
      part = { functionCall: { id: `call_${Date.now().toString(36)}`, name: this.toolToCall, args: this.toolArgs } };
    } else {
      part = { text: hasResponse ? 'The tool answered.' : 'ok' };
    }
    return this.reply(part);
  }

  private reply(part: Json): Json {
    return {
      candidates: [{ content: { role: 'model', parts: [part] }, finishReason: 'STOP', index: 0 }],
      usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
      modelVersion: 'gemini-2.5-flash',
    };
  }
}

/** The smallest value a JSON schema (or the API's upper-case Schema) accepts: required properties only, first enum value, minimum numbers. */
function smallestInstance(schema: Json): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const type = String(Array.isArray(schema.type) ? schema.type[0] : (schema.type ?? 'object')).toLowerCase();
  switch (type) {
    case 'object': {
      const props = (schema.properties as Record<string, Json> | undefined) ?? {};
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : Object.keys(props);
      return Object.fromEntries(required.map((k) => [k, smallestInstance(props[k] ?? {})]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'ok';
  }
}
