/**
 * The agent's stderr logger: one line per message, `time level message`, filtered by level. Quiet
 * unless something is wrong (default level warn). Callers never pass secret values; messages are
 * cut at 4 KiB.
 */
import type { Logger, LogLevel } from './agent-runtime.js';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLogger(level: LogLevel, write: (line: string) => void): Logger {
  return (l, message) => {
    if (RANK[l] > RANK[level]) return;
    write(`${new Date().toISOString()} ${l} mcpwatch-agent: ${message.slice(0, 4096)}\n`);
  };
}
