/**
 * Ordering of identifiers, paths and keys for the agent's sorted output: by UTF-16 code unit, the
 * order JSON canonicalisation and the collector's byte-wise SQL sorts use. Not localeCompare: the
 * order must not depend on the machine's locale, and a locale-aware comparison loads ICU's
 * collation data into the long-running agent for good (+2.5 MB RSS, node 20) and costs more per call.
 */
export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
