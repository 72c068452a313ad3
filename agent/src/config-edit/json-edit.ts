/**
 * JSON / JSONC editing with jsonc-parser's `modify` + `applyEdits`: only the bytes of the edited
 * property change (with its separating comma); comments, key order, indentation and line endings of
 * everything else stay as they were. The indentation of new text follows the file's own.
 */
import { applyEdits, modify, parse, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { AgentCodes } from '../errors.js';
import { ConfigEditError, type KeyPath } from './edit-types.js';

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true };

/** Parses JSON/JSONC; throws MCPW_ERR_CONFIG_EDIT_NOT_FOUND when it does not parse. */
export function parseJson(text: string): unknown {
  const errors: ParseError[] = [];
  const doc = parse(text, errors, PARSE_OPTIONS) as unknown;
  if (errors.length > 0) throw new ConfigEditError(AgentCodes.configEditNotFound, `the file is not valid JSON/JSONC (parse error ${errors[0]!.error} at offset ${errors[0]!.offset})`);
  return doc;
}

/** The file's own indentation and line ending, for text the editor inserts. */
export function jsonFormatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)["}/]/.exec(text)?.[1] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

/** Sets (value defined) or removes (undefined) the property at `keyPath`. */
export function setJson(text: string, keyPath: KeyPath, value: unknown): string {
  // A removal is not re-formatted (only the property and its comma go); an insertion is laid out
  // in the file's own indentation.
  const edits = modify(text, [...keyPath], value, value === undefined ? {} : { formattingOptions: jsonFormatting(text) });
  return applyEdits(text, edits);
}
