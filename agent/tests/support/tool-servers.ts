/**
 * Real MCP servers (and non-MCP listeners) on this machine for the probe and tool tests:
 * @modelcontextprotocol/server-everything over Streamable HTTP and SSE, and the SDK-built
 * tool-server.mjs whose tools are read from a JSON file at every request (rug pulls, poisoned
 * descriptions). Every server is a real child process; stop() kills them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@mcpwatch/testkit';
import { EVERYTHING_BIN, freePort } from './mcp-fixture.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const TOOL_SERVER = path.join(HERE, 'tool-server.mjs');

export interface RunningServer {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  stop: () => void;
}

export interface ToolSpec {
  name: string;
  version: string;
  instructions?: string;
  tools: { name: string; description: string; inputSchema: unknown; annotations?: Record<string, unknown> }[];
}

function collect(child: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

/** server-everything over `streamableHttp` (/mcp) or `sse` (/sse), on a free port (all interfaces). */
export async function startEverything(mode: 'streamableHttp' | 'sse'): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING_BIN, mode], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const io = collect(child);
  await waitFor(`server-everything ${mode} on ${port}`, () => /listening|running/i.test(io.err() + io.out()), 30_000);
  return { child, port, stdout: io.out, stderr: io.err, stop: () => child.kill('SIGKILL') };
}

/** tool-server.mjs serving the tools in `file` (written from `spec`). */
export async function startToolServer(file: string, spec: ToolSpec, bind = '127.0.0.1'): Promise<RunningServer> {
  writeToolSpec(file, spec);
  const child = spawn(process.execPath, [TOOL_SERVER, file, bind, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const io = collect(child);
  const port = await waitFor(`tool-server on ${bind}`, () => {
    const m = /\{"port":(\d+)\}/.exec(io.out());
    return m ? Number(m[1]) : undefined;
  }, 30_000);
  return { child, port, stdout: io.out, stderr: io.err, stop: () => child.kill('SIGKILL') };
}

export function writeToolSpec(file: string, spec: ToolSpec): void {
  writeFileSync(file, JSON.stringify(spec));
}
