/**
 * Real MCP servers for integration tests: a fixture home whose Claude Desktop config names the
 * installed @modelcontextprotocol/server-everything over stdio and over streamable HTTP (and that
 * HTTP server once more as a remote server by URL), and a
 * stand-in Claude Desktop process (node started through a `claude-desktop` symlink, so it looks
 * like the client by name) that launches them as its children.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../../..');
export const EVERYTHING_BIN = path.join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

/** A free TCP port on this machine. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface McpFixture {
  root: string;
  home: string;
  configPath: string;
  httpPort: number;
  /** The stand-in client (after start()). */
  client: ChildProcess;
  /** Pids of the servers it launched (stdio, http). */
  childPids: number[];
  /** Starts the stand-in client and its servers (startMcpFixture does unless told not to). */
  start: () => Promise<void>;
  /** Stops the client and its servers, keeps the home. */
  stop: () => Promise<void>;
  close: () => Promise<void>;
}

/** Secret values planted in the config; no output may contain them. */
export const PROCESS_CANARIES = {
  argToken: 'ghp_CanaryArgToken0123456789abcdefghijkl',
  envValue: 'sk-ant-api03-CanaryEnvValue0123456789abcdefghijklmnop',
  // Shapes a process command line shows unquoted (issue 10): JSON with spaces, --flag:value, a
  // prefix-less lower-case token.
  jsonArg: 'canaryProcJson4Wz8',
  colonFlag: 'canaryProcColon7Qm2',
  lowerTok: 'p4k9x2w7m3q8z1r6t5y0u3v8n2b7c4d9f6g1h5j0',
} as const;

/** Writes the fixture home and (unless `start` is false) starts the stand-in client with both servers. */
export async function startMcpFixture(options: { start?: boolean } = {}): Promise<McpFixture> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mcpw-proc-'));
  const home = path.join(root, 'alice');
  const configDir = path.join(home, '.config', 'Claude');
  mkdirSync(configDir, { recursive: true });
  const httpPort = await freePort();
  const configPath = path.join(configDir, 'claude_desktop_config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      mcpServers: {
        'everything-stdio': { command: EVERYTHING_BIN, args: [
            'stdio', '--token', PROCESS_CANARIES.argToken, '--config', `{"apiKey": "${PROCESS_CANARIES.jsonArg}", "region": "eu"}`,
            `--api-key:${PROCESS_CANARIES.colonFlag}`, PROCESS_CANARIES.lowerTok,
          ], env: { ANTHROPIC_API_KEY: PROCESS_CANARIES.envValue } },
        'everything-http': { command: EVERYTHING_BIN, args: ['streamableHttp'], env: { PORT: String(httpPort) } },
        // The same HTTP server used as a remote server by URL: the client connects to it.
        'everything-remote': { url: `http://localhost:${httpPort}/mcp` },
      },
    }),
  );
  const binDir = path.join(root, 'bin');
  mkdirSync(binDir);
  const launcher = path.join(binDir, 'claude-desktop');
  symlinkSync(process.execPath, launcher);
  const fx = { root, home, configPath, httpPort, client: null as unknown as ChildProcess, childPids: [] as number[] } as McpFixture;
  fx.start = async () => {
    const client = spawn(launcher, [path.join(HERE, 'stand-in-client.mjs'), configPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    fx.client = client;
    fx.childPids = await new Promise<number[]>((resolve, reject) => {
      let buf = '';
      client.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /ready ([\d,]+)\n/.exec(buf);
        if (m) resolve((m[1] as string).split(',').map(Number));
      });
      client.once('exit', (code) => reject(new Error(`stand-in client exited with ${code}`)));
    });
  };
  fx.stop = async () => {
    const client = fx.client;
    if (client && client.exitCode === null && client.signalCode === null) {
      const exited = new Promise((r) => client.once('exit', r));
      client.kill('SIGTERM');
      await exited;
    }
    for (const pid of fx.childPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  fx.close = async () => {
    await fx.stop();
    rmSync(root, { recursive: true, force: true });
  };
  if (options.start !== false) await fx.start();
  return fx;
}
