/**
 * How the single executable compiles a bundle (sea-entry.mjs) and how the build makes the agent
 * bundle's V8 code cache (make-code-cache.mjs): the same CommonJS wrapper around the same source,
 * or V8 rejects the cache. Pure: no I/O.
 */

/** The wrapper's parameters, in the order the dispatcher passes them. */
export const BUNDLE_PARAMS = Object.freeze(['exports', 'require', 'module', '__filename', '__dirname']);

/** `source` as the text V8 compiles: one function expression taking BUNDLE_PARAMS. */
export function wrapBundle(source) {
  return `(function (${BUNDLE_PARAMS.join(', ')}) {${source}\n})`;
}
