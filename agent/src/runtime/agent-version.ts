/**
 * The agent's version: in a single executable, the version the installers build stamped into
 * `globalThis.__MCPWATCH_BUILD__` (installers/scripts/lib/bundle-agent.mjs); otherwise from
 * agent/package.json when it can be read (npm install, dev tree), else the constant below.
 */
import { readFileSync } from 'node:fs';

const STAMPED = '0.1.0';

function readVersion(): string {
  const built = (globalThis as { __MCPWATCH_BUILD__?: { version?: unknown } }).__MCPWATCH_BUILD__?.version;
  if (typeof built === 'string' && built !== '') return built;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return pkg.name === '@mcpwatch/agent' && typeof pkg.version === 'string' ? pkg.version : STAMPED;
  } catch {
    return STAMPED;
  }
}

export const AGENT_VERSION: string = readVersion();
