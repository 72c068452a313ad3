// A stand-in MCP client: reads a Claude Desktop style config file (argv[2]) and launches every
// stdio server in it as a child process, the way Claude Desktop does (command + args, env merged
// into its own, stdio piped); for every remote server (`url`) it holds a TCP connection open to
// the URL's host and port, retrying until the server listens. Prints "ready <pid,...>" once all are spawned; exits when stdin closes or
// on SIGTERM, taking its children with it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const children = [];
const sockets = [];
function hold(url) {
  const u = new URL(url);
  const sock = connect({ host: u.hostname, port: Number(u.port) });
  sock.on('error', () => setTimeout(() => hold(url), 100));
  sockets.push(sock);
}
for (const [, entry] of Object.entries(config.mcpServers ?? {})) {
  if (entry.url) {
    hold(entry.url);
    continue;
  }
  const child = spawn(entry.command, entry.args ?? [], {
    env: { ...process.env, ...(entry.env ?? {}) },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdout.resume();
  children.push(child);
}
const stop = () => {
  for (const s of sockets) s.destroy();
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`ready ${children.map((c) => c.pid).join(',')}\n`);
