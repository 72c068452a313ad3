/**
 * Coded errors for the packaging pipeline. Every failure of `npm run package` surfaces as one of
 * these, with a stable code, a message a person can act on, and the underlying error as `cause`.
 */

/** Codes used by the packaging scripts (stable: tests and CI logs match on them). */
export const PACKAGING_ERROR_CODES = Object.freeze({
  AGENT_NOT_BUILT: 'MCPW_ERR_PACKAGE_AGENT_NOT_BUILT',
  BAD_ARGUMENT: 'MCPW_ERR_PACKAGE_BAD_ARGUMENT',
  COMMAND_FAILED: 'MCPW_ERR_PACKAGE_COMMAND_FAILED',
  TOOL_MISSING: 'MCPW_ERR_PACKAGE_TOOL_MISSING',
  NODE_FETCH_FAILED: 'MCPW_ERR_PACKAGE_NODE_FETCH_FAILED',
  BUNDLE_FAILED: 'MCPW_ERR_PACKAGE_BUNDLE_FAILED',
  PATCH_NOT_APPLIED: 'MCPW_ERR_PACKAGE_PATCH_NOT_APPLIED',
  BAD_CONFIG_VALUE: 'MCPW_ERR_PACKAGE_BAD_CONFIG_VALUE',
});

/** An error raised by the packaging scripts; `code` is one of PACKAGING_ERROR_CODES. */
export class PackagingError extends Error {
  /**
   * @param {string} code one of PACKAGING_ERROR_CODES
   * @param {string} message what went wrong and what to do about it
   * @param {unknown} [cause] the underlying error
   */
  constructor(code, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'PackagingError';
    this.code = code;
  }
}
