/**
 * The agent's version, from agent/package.json when it can be read (npm install, dev tree), else
 * the version stamped at build time below (single executables carry no package.json).
 */
import { readFileSync } from 'node:fs';

const STAMPED = '0.1.0';

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    return pkg.name === '@mcpwatch/agent' && typeof pkg.version === 'string' ? pkg.version : STAMPED;
  } catch {
    return STAMPED;
  }
}

export const AGENT_VERSION: string = readVersion();
