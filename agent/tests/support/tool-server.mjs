#!/usr/bin/env node
/**
 * A small MCP server built with the official SDK, for the probe and tool-inventory tests: it
 * serves over Streamable HTTP (stateless) on /mcp the tools written in a JSON file, re-read on
 * every request, so a test (or the benchmark) can change a tool's description between two probes
 * (a rug pull) without restarting it. Usage: tool-server.mjs <tools.json> [bind=127.0.0.1] [port=0]
 * File: { "name", "version", "instructions"?, "tools": [{ name, description, inputSchema, annotations? }] }
 * Prints {"port": N} on stdout once listening.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const [file, bind = '127.0.0.1', port = '0'] = process.argv.slice(2);
const spec = () => JSON.parse(readFileSync(file, 'utf8'));

const http = createServer(async (req, res) => {
  if (!req.url?.startsWith('/mcp')) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const s = spec();
  const server = new Server({ name: s.name, version: s.version }, { capabilities: { tools: {} }, instructions: s.instructions });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: spec().tools }));
  // A probe must never call a tool: if one does, the test sees it in the calls log (stderr).
  server.setRequestHandler(CallToolRequestSchema, async (r) => {
    process.stderr.write(`TOOL CALLED ${r.params.name}\n`);
    return { content: [{ type: 'text', text: 'called' }] };
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { void transport.close(); void server.close(); });
  await server.connect(transport);
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let parsed;
    try { parsed = body ? JSON.parse(body) : undefined; } catch { parsed = undefined; }
    void transport.handleRequest(req, res, parsed);
  });
});
http.listen(Number(port), bind, () => {
  process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`);
});
