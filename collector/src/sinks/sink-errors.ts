/**
 * Coded errors of the outlets (sinks and outbox drainers), built on the collector's CollectorError
 * (../errors.ts) so codes stay unique across the package. They never cross HTTP; they travel inside
 * SendResult values, into logs and into the outbox rows' last-error column.
 */
import { CollectorError } from '../errors.js';

type Options = { cause?: unknown };

function define(code: string, defaultMessage: string) {
  const f = (message?: string, options?: Options) => new CollectorError(code, 500, message ?? defaultMessage, options);
  return Object.assign(f, { code });
}

export const SinkErrors = {
  /** The service could not be reached (network, DNS, 5xx). Retryable. */
  unavailable: define('MCPW_ERR_SINK_UNAVAILABLE', 'the sink service could not be reached; rows stay in the outbox'),
  /** The service throttled the call (ProvisionedThroughputExceeded, TooManyRequests). Retryable. */
  throttled: define('MCPW_ERR_SINK_THROTTLED', 'the sink service throttled the call; rows stay in the outbox'),
  /** Some records/findings of an accepted call failed. Those rows are retried. */
  partial: define('MCPW_ERR_SINK_PARTIAL', 'the sink service rejected some records; they stay in the outbox'),
  /** The service rejected the request as invalid; resending the same bytes fails again. */
  rejected: define('MCPW_ERR_SINK_REJECTED', 'the sink service rejected the request as invalid; rows stay in the outbox'),
  /** A sink is configured wrongly (missing account id, unknown sink name). */
  config: define('MCPW_ERR_SINK_CONFIG', 'sink misconfigured'),
} as const;
