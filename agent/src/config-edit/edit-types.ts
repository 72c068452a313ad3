/**
 * Shared vocabulary of the format-preserving config editor (config-edit/): the formats it edits,
 * the key paths it edits at, and its one error class. Pure: no I/O.
 */
import * as path from 'node:path';
import { AgentError, AgentCodes } from '../errors.js';

/** Formats with a format-preserving editor. JSON covers JSONC (comments, trailing commas). */
export type EditFormat = 'json' | 'yaml' | 'toml';

/** Keys from the document root to a value. Segments are literal keys (a dot is part of the key). */
export type KeyPath = readonly string[];

export type ConfigEditCode =
  | typeof AgentCodes.configEditUnsupported
  | typeof AgentCodes.configEditNotFound
  | typeof AgentCodes.configEditUnsafe;

/** Why an edit was not made. Nothing is ever written when one is thrown. */
export class ConfigEditError extends AgentError {
  constructor(code: ConfigEditCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConfigEditError';
  }
}

const BY_EXTENSION: Record<string, EditFormat> = {
  '.json': 'json',
  '.jsonc': 'json',
  '.code-workspace': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.toml': 'toml',
};

/** The editor format of a file by its extension, or null when none applies. */
export function editFormatOf(file: string, declared?: string): EditFormat | null {
  const byExt = BY_EXTENSION[path.extname(file).toLowerCase()];
  if (byExt) return byExt;
  if (declared === 'json' || declared === 'jsonc') return 'json';
  if (declared === 'yaml' || declared === 'toml') return declared;
  return null;
}

/** The offset just past the line that holds offset `i` (its newline included), or text.length. */
export function nextLineStart(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl + 1;
}

/** The offset of the start of the line that holds offset `i`. */
export function lineStart(text: string, i: number): number {
  return text.lastIndexOf('\n', i - 1) + 1;
}
