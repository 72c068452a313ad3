/**
 * Runs `mcpwatch-agent watch` (the built bin) as a child process and collects the JSON events it
 * prints, one per line. waitFor() resolves with the first event matching a predicate (bounded).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { McpEvent } from '@mcpwatch/shared';
import { REPO_ROOT } from './mcp-fixture.js';

export const AGENT_BIN = path.join(REPO_ROOT, 'agent/bin/mcpwatch-agent.js');

export interface WatchProcess {
  child: ChildProcess;
  events: McpEvent[];
  /** Every stdout line as printed (for secret checks). */
  rawStdout: () => string;
  stderr: () => string;
  waitFor: (pred: (e: McpEvent) => boolean, timeoutMs?: number) => Promise<McpEvent>;
  /** Resolves once the watcher printed its "watching" status line. */
  ready: Promise<void>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export function startWatch(args: string[]): WatchProcess {
  const child = spawn(process.execPath, [AGENT_BIN, 'watch', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: McpEvent[] = [];
  let out = '';
  let pending = '';
  let err = '';
  const waiters: Array<{ pred: (e: McpEvent) => boolean; resolve: (e: McpEvent) => void }> = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line) as McpEvent;
      events.push(event);
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('watching')) readyResolve();
  });
  const waitFor = (pred: (e: McpEvent) => boolean, timeoutMs = 15_000): Promise<McpEvent> => {
    const seen = events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}; stderr: ${err}`)), timeoutMs);
      waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    return exited;
  };
  return { child, events, rawStdout: () => out, stderr: () => err, waitFor, ready, stop };
}
