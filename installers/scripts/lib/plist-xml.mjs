/**
 * Minimal XML property list writer (Apple's plist 1.0 DTD) for the launchd daemon and the
 * configuration profiles. Supports string, boolean, integer, array and dict; anything else is
 * refused with BAD_CONFIG_VALUE. Strings are XML-escaped; control characters other than tab, CR
 * and LF are refused (XML 1.0 cannot carry them).
 */
import { createHash } from 'node:crypto';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';

const HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n';

/** Escapes text for an XML element. */
function escapeXml(text) {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text)) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, 'a plist string contains control characters XML cannot carry');
  }
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function render(value, indent) {
  const pad = '\t'.repeat(indent);
  if (typeof value === 'string') return `${pad}<string>${escapeXml(value)}</string>\n`;
  if (typeof value === 'boolean') return `${pad}<${value}/>\n`;
  if (typeof value === 'number' && Number.isInteger(value)) return `${pad}<integer>${value}</integer>\n`;
  if (Array.isArray(value)) return `${pad}<array>\n${value.map((item) => render(item, indent + 1)).join('')}${pad}</array>\n`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `${pad}<dict>\n${entries.map(([k, v]) => `${pad}\t<key>${escapeXml(k)}</key>\n${render(v, indent + 1)}`).join('')}${pad}</dict>\n`;
  }
  throw new PackagingError(PACKAGING_ERROR_CODES.BAD_CONFIG_VALUE, `cannot write ${typeof value} ${String(value)} to a plist`);
}

/**
 * Serializes `value` (a dict, usually) as an XML plist document.
 * @param {unknown} value
 * @returns {string}
 */
export function toPlistXml(value) {
  return `${HEADER}${render(value, 0)}</plist>\n`;
}

/**
 * A stable UUID derived from `name` (so re-generated profiles replace, not duplicate, the installed
 * ones when the MDM pushes them again).
 */
export function stableUuid(name) {
  const hex = createHash('sha256').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}
