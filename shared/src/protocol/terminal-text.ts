/**
 * Text that is safe to print on a terminal. Names, hostnames, titles, paths and commands come from
 * config files and agents we do not control; printed raw, an ESC / CSI / OSC sequence, a C1 byte,
 * a BEL, backspace, CR or LF, a NUL, or a bidi override (U+202E) can rewrite what an analyst sees
 * (hide a row, fake a column, recolour, retitle the window, write to the clipboard).
 *
 * terminalSafe() turns every such character into a visible escape (`\x1b`, `\x9b`, `\n`, `\u202e`)
 * and leaves all other text as it is; jsonTerminalSafe() does the same for JSON text, where
 * JSON.stringify already escapes C0 controls but leaves DEL, C1 and format characters raw: those
 * become `\uXXXX` escapes, so the JSON means exactly the same. Pure, no I/O.
 */

/**
 * Control characters (C0, DEL, C1), format characters (bidi embeddings / overrides / isolates,
 * zero-width characters, the BOM), line and paragraph separators, and lone surrogates.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
/** What JSON.stringify leaves raw of the above (it escapes C0 controls and lone surrogates). */
const JSON_UNSAFE = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

function visible(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const code = c.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\u{${hex(code, 1)}}`;
}

/** `text` with every control, format and separator character shown as a visible escape. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** JSON text (from JSON.stringify) with the characters it leaves raw written as \uXXXX escapes. */
export function jsonTerminalSafe(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => {
    let out = '';
    for (let i = 0; i < c.length; i++) out += `\\u${hex(c.charCodeAt(i), 4)}`;
    return out;
  });
}
