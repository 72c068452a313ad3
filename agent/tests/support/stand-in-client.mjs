// A stand-in MCP client: reads a Claude Desktop style config file (argv[2]) and launches every
// server in it as a child process, the way Claude Desktop does (command + args, env merged into
// its own, stdio piped). Prints "ready <pid,...>" once all are spawned; exits when stdin closes or
// on SIGTERM, taking its children with it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const children = [];
for (const [, entry] of Object.entries(config.mcpServers ?? {})) {
  const child = spawn(entry.command, entry.args ?? [], {
    env: { ...process.env, ...(entry.env ?? {}) },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdout.resume();
  children.push(child);
}
const stop = () => {
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`ready ${children.map((c) => c.pid).join(',')}\n`);
