/**
 * Matches a process command line to the configured server entry that launched it.
 *
 * A configured stdio server is reduced to "needles": its package name (npm, PyPI, OCI image), the
 * script path or python module a generic launcher runs, or its own executable name. A process
 * matches when every needle of the entry is in its argv. This sees through the way launchers
 * re-exec themselves: `npx -y pkg` runs as `npm exec pkg` or `node …/npx-cli.js -y pkg`, `uvx pkg`
 * as `uv tool uvx pkg`, `cmd /c npx …` as the inner command, `docker run mcp/x` keeps the image.
 * Pure functions; never throw.
 */
import { REDACTED } from '@mcpwatch/shared/protocol';
import type { ServerEntry } from '@mcpwatch/shared';
import { GENERIC_LAUNCHERS, baseName, normPath, splitCommandLine, stripCmdWrapper } from './process-command-line.js';
import { byText } from '../normalize/text-order.js';

type Needle =
  | { kind: 'pkg'; name: string; ecosystem: string }
  | { kind: 'path'; value: string }
  | { kind: 'module'; value: string }
  | { kind: 'base'; value: string };

/** A configured server prepared for matching. */
export interface ServerMatcher {
  entry: ServerEntry;
  needles: Needle[];
  /** Lower-case text every matching command line contains (a cheap pre-filter). */
  hint: string;
}

const SKIP_WORDS = new Set(['-y', '--yes', 'exec', 'run', 'x', 'dlx', 'tool', 'uvx', '--', 'run-script']);
const PYTHON = new Set(['python', 'python3', 'py', 'pythonw']);

/** Prepares matchers for the entries that run a local process (those with a command). */
export function buildServerMatchers(servers: readonly ServerEntry[]): ServerMatcher[] {
  const out: ServerMatcher[] = [];
  for (const entry of servers) {
    const needles = needlesOf(entry);
    const first = needles[0];
    if (first) out.push({ entry, needles, hint: hintOf(first) });
  }
  return out;
}

function hintOf(needle: Needle): string {
  switch (needle.kind) {
    case 'pkg':
      return needle.name;
    case 'path':
      return baseName(needle.value);
    case 'module':
    case 'base':
      return needle.value;
  }
}

function needlesOf(entry: ServerEntry): Needle[] {
  if (!entry.command) return [];
  const pkg = entry.package;
  if (pkg && pkg.ecosystem !== 'local' && pkg.name) {
    return [{ kind: 'pkg', name: pkg.name.toLowerCase(), ecosystem: pkg.ecosystem }];
  }
  const argv = stripCmdWrapper([entry.command, ...entry.args].filter((t) => t && !t.includes(REDACTED)));
  const head = argv[0];
  if (!head) return [];
  const cmd0 = baseName(head);
  if (!GENERIC_LAUNCHERS.has(cmd0)) return [{ kind: 'base', value: cmd0 }];
  const rest = argv.slice(1);
  if (PYTHON.has(cmd0) || cmd0 === 'uv') {
    const m = rest.indexOf('-m');
    const mod = m >= 0 ? rest[m + 1] : undefined;
    if (mod) return [{ kind: 'module', value: mod.toLowerCase() }];
  }
  for (const arg of rest) {
    if (arg.startsWith('-') || SKIP_WORDS.has(arg.toLowerCase())) continue;
    if (/[\\/]/.test(arg) || /\.(m?js|cjs|ts|py)$/i.test(arg)) {
      return [{ kind: 'path', value: normPath(arg).replace(/^\.\//, '') }];
    }
    // A bare word after a launcher (uvx mcp-server-fetch, npx some-pkg): the package or tool name.
    return [{ kind: 'pkg', name: arg.toLowerCase().replace(/@[^/@]*$/, '').replace(/==.*$/, ''), ecosystem: 'unknown' }];
  }
  return [];
}

/** Tokens of a process command line, lower-cased, with any `cmd /c` wrapper removed. */
export function processTokens(cmd: string): string[] {
  return stripCmdWrapper(splitCommandLine(cmd)).map((t) => t.toLowerCase());
}

function needleHits(needle: Needle, tokens: readonly string[]): boolean {
  switch (needle.kind) {
    case 'pkg': {
      const n = needle.name;
      // A console script / bin named like its package (uvx pkg → …/bin/pkg, npx pkg → …/.bin/pkg).
      if (!n.includes('/') && tokens.slice(0, 3).some((t) => baseName(t) === n)) return true;
      return tokens.some((t) => {
        if (t === n || t.startsWith(`${n}@`) || t.startsWith(`${n}==`) || t.startsWith(`${n}[`)) return true;
        if (t.startsWith(`${n}:`) && needle.ecosystem !== 'npm') return true; // image:tag
        if (needle.ecosystem === 'oci' && (t.endsWith(`/${n}`) || t.includes(`/${n}:`) || t.includes(`/${n}@`))) return true;
        return normPath(t).includes(`/node_modules/${n}/`);
      });
    }
    case 'path':
      return tokens.some((t) => {
        const p = normPath(t);
        return p === needle.value || p.endsWith(`/${needle.value}`);
      });
    case 'module':
      return tokens.some((t, i) => t === '-m' && tokens[i + 1] === needle.value);
    case 'base':
      return tokens.slice(0, 3).some((t) => baseName(t) === needle.value);
  }
}

/**
 * The configured entries whose needles all appear in `cmd`, best first: the one with more of its
 * args on the command line, then an entry of a `preferClients` client (the client found up the
 * parent chain, and the extensions it hosts) before others, then by serverKey.
 */
export function matchServers(cmd: string, matchers: readonly ServerMatcher[], preferClients: string | null | ReadonlySet<string>): ServerEntry[] {
  const prefer = preferClients === null ? new Set<string>() : typeof preferClients === 'string' ? new Set([preferClients]) : preferClients;
  const lower = cmd.toLowerCase();
  const candidates = matchers.filter((m) => lower.includes(m.hint));
  if (candidates.length === 0) return [];
  const tokens = processTokens(cmd);
  if (tokens.length === 0) return [];
  const present = new Set(tokens);
  // Among entries whose needles all hit, the one with more of its own args on the command line
  // wins (one binary configured twice: `server stdio` and `server streamableHttp`).
  const argScore = (e: ServerEntry): number => e.args.filter((a) => present.has(a.toLowerCase())).length;
  const hits = candidates.filter((m) => m.needles.every((n) => needleHits(n, tokens))).map((m) => ({ entry: m.entry, score: argScore(m.entry) }));
  return hits
    .sort((a, b) => {
      const pa = prefer.has(a.entry.client) ? 0 : 1;
      const pb = prefer.has(b.entry.client) ? 0 : 1;
      return b.score - a.score || pa - pb || (a.entry.disabled === b.entry.disabled ? 0 : a.entry.disabled ? 1 : -1) || byText(a.entry.serverKey, b.entry.serverKey);
    })
    .map((h) => h.entry);
}
