/**
 * Command-line helpers for process matching: split a ps command line into tokens (the
 * normalizer's quote-aware splitter), take base names, and see through launchers (npx →
 * `npm exec`, uvx → `uv tool uvx`, `cmd /c`, node/python script runners), and redact a command
 * line for output (`redactCommandLine`). Pure functions; none throws.
 */
import { commandLineSpans, splitCommandLine } from '../normalize/index.js';
import { redactArgs, redactText } from '../secrets/index.js';

export { splitCommandLine };

/** Launchers whose own name says nothing about which server runs. */
export const GENERIC_LAUNCHERS: ReadonlySet<string> = new Set([
  'node', 'nodejs', 'bun', 'deno', 'tsx', 'ts-node', 'python', 'python3', 'py', 'pythonw', 'uv', 'uvx', 'pipx',
  'npx', 'npm', 'pnpm', 'yarn', 'bunx', 'dlx', 'docker', 'podman', 'cmd', 'sh', 'bash', 'zsh', 'dash',
  'powershell', 'pwsh', 'java', 'dotnet', 'ruby', 'php', 'go', 'cargo', 'env', 'exec', 'run', 'tool', 'x',
  'npm-cli', 'npx-cli', 'start', 'launch',
]);

/** Last path segment, lower-cased, without .exe/.cmd/.bat/.js/.mjs/.cjs/.py/.ps1. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  const last = parts[parts.length - 1] || path;
  return last.toLowerCase().replace(/\.(exe|cmd|bat|js|mjs|cjs|py|ps1)$/, '');
}

/** Normalises a path for comparison: forward slashes, lower case. */
export function normPath(path: string): string {
  return path.replace(/\\/g, '/').toLowerCase();
}

/**
 * Strips a leading `cmd /c` (or `/k`, `/s /c`) wrapper from argv (command first).
 */
export function stripCmdWrapper(argv: string[]): string[] {
  if (argv.length >= 3 && baseName(argv[0] ?? '') === 'cmd') {
    let i = 1;
    while (i < argv.length && /^\/[a-z]$/i.test(argv[i] ?? '')) i++;
    return argv.slice(i);
  }
  return argv;
}

/**
 * A process command line with every secret masked, as written otherwise. Words are found
 * quote-aware (`--password "two words"`, `--config '{"apiKey": "x"}'` are one word each), redacted
 * as an argument vector (`--token x`, `--api-key:x`, `KEY=VALUE`, JSON, URLs with userinfo), put
 * back in place (quoted when the redacted word needs it), then the whole line passes the free-text
 * redactor. Never returns the input unscanned.
 */
export function redactCommandLine(line: string): string {
  const spans = commandLineSpans(line);
  const words = spans.map((s) => s.word);
  const redacted = redactArgs(words);
  let out = '';
  let at = 0;
  spans.forEach((s, i) => {
    const r = redacted[i] as string;
    if (r === s.word) return;
    out += line.slice(at, s.start) + (/[\s"'\\]/.test(r) ? JSON.stringify(r) : r);
    at = s.end;
  });
  return redactText(out + line.slice(at));
}
