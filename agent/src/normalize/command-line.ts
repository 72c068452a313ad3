/**
 * Splitting command strings the way users write them in MCP configs.
 *
 * Contract: never throws; bounded (at most MAX_WORDS words). Quotes (' and ") group words and are
 * removed. A backslash escapes only a quote, a space or another backslash that follows it, so
 * Windows paths (`C:\Users\me\x.exe`) keep their backslashes while `My\ Dir` still works.
 */
const MAX_WORDS = 512;

/** One word of a command line and where it sits in the line (quotes included). */
export interface WordSpan {
  word: string;
  start: number;
  end: number;
}

/** The words of a command line with their places, quote-aware (the one tokenizer: splitCommandLine
 * and the process command-line redactor both use it). */
export function commandLineSpans(line: string): WordSpan[] {
  const spans: WordSpan[] = [];
  let word = '';
  let start = -1;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length && spans.length < MAX_WORDS; i++) {
    const ch = line[i] as string;
    const next = line[i + 1];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && (next === '"' || next === '\\')) {
        word += next;
        i++;
      } else word += ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (start >= 0) spans.push({ word, start, end: i });
      word = '';
      start = -1;
      continue;
    }
    if (start < 0) start = i;
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '\\' && (next === ' ' || next === '"' || next === "'")) {
      word += next;
      i++;
    } else word += ch;
  }
  if (start >= 0 && spans.length < MAX_WORDS) spans.push({ word, start, end: line.length });
  return spans;
}

/** Split one command string into words, quote-aware. */
export function splitCommandLine(line: string): string[] {
  return commandLineSpans(line).map((s) => s.word);
}

/** An unquoted Windows executable path that may contain spaces: `C:\Program Files\x\node.exe ...`. */
const WINDOWS_EXE_PREFIX = /^([A-Za-z]:[\\/][^"'*?<>|]*?\.(?:exe|cmd|bat|com|ps1))(?=\s|$)/i;

/**
 * Resolve a `command` field that may hold a whole command line (`"npx -y pkg"`). A command with
 * whitespace is split quote-aware, and its words go before `args`, when it is quoted, when its
 * first word is a bare program name (no path separator: `npx -y pkg`), or when `args` is empty.
 * An unquoted Windows path to an executable keeps its spaces (`C:\Program Files\x\node.exe a`).
 * A path with spaces followed by non-empty `args` is taken as one path, as a client would spawn it.
 */
export function splitCommandField(command: string, args: string[]): { command: string; args: string[] } {
  const trimmed = command.trim();
  if (!/\s/.test(trimmed)) return { command: trimmed, args };
  const quoted = /^["']/.test(trimmed);
  const exe = quoted ? null : WINDOWS_EXE_PREFIX.exec(trimmed);
  if (exe) {
    const head = exe[1] as string;
    return { command: head, args: [...splitCommandLine(trimmed.slice(head.length)), ...args] };
  }
  const firstWord = trimmed.split(/\s/, 1)[0] as string;
  if (!quoted && args.length > 0 && /[\\/]/.test(firstWord)) return { command: trimmed, args };
  const words = splitCommandLine(trimmed);
  if (words.length === 0) return { command: trimmed, args };
  return { command: words[0] as string, args: [...words.slice(1), ...args] };
}

/** Lower-case base name of an executable path without .exe/.cmd/.bat/.ps1/.com. */
export function executableBaseName(command: string): string {
  const parts = command.split(/[\\/]/);
  const last = parts[parts.length - 1] ?? command;
  return last.toLowerCase().replace(/\.(?:exe|cmd|bat|ps1|com)$/, '');
}

/** Split a shell snippet (`sh -c "cd x && npx y"`) into its simple commands. */
export function splitShellCommands(snippet: string): string[][] {
  return snippet
    .split(/&&|\|\||;|\|/)
    .map((part) => splitCommandLine(part))
    .filter((words) => words.length > 0);
}
