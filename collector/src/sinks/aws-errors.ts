/**
 * Classifies an error thrown by an AWS SDK v3 call into a failed SendResult: throttling and
 * service/network faults are retryable; validation and permission errors are not (a resend of the
 * same request fails the same way — the rows stay in the outbox and the error is reported).
 */
import { SinkErrors } from '../errors.js';
import { asError, type SendResult } from './types.js';

const THROTTLE = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'KMSThrottlingException',
  'RequestLimitExceeded',
  'SlowDown',
]);
const NOT_RETRYABLE = new Set([
  'ValidationException',
  'InvalidArgumentException',
  'InvalidInputException',
  'InvalidAccessException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'ResourceNotFoundException',
  'SerializationException',
]);

interface SdkLikeError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/** Retry-After of an HTTP response in ms, when the service sent one. */
function retryAfterMs(e: SdkLikeError): number | undefined {
  const h = e.$response?.headers?.['retry-after'];
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/** true when the error is the service saying "slow down". */
export function isThrottle(e: unknown): boolean {
  const x = e as SdkLikeError;
  return (x?.name !== undefined && THROTTLE.has(x.name)) || x?.$metadata?.httpStatusCode === 429;
}

/** Turns a thrown SDK error into a failed SendResult with the right code and retryability. */
export function classifyAwsError(e: unknown, what: string): Extract<SendResult, { ok: false }> {
  const x = e as SdkLikeError;
  const name = x?.name ?? 'Error';
  const status = x?.$metadata?.httpStatusCode;
  const ra = retryAfterMs(x);
  if (isThrottle(e)) {
    return { ok: false, retryable: true, ...(ra !== undefined ? { retryAfterMs: ra } : {}), error: SinkErrors.throttled(`${what} throttled (${name})`, { cause: e }) };
  }
  if (NOT_RETRYABLE.has(name) || (status !== undefined && status >= 400 && status < 500)) {
    return { ok: false, retryable: false, error: SinkErrors.rejected(`${what} rejected: ${name}: ${asError(e).message}`, { cause: e }) };
  }
  return { ok: false, retryable: true, ...(ra !== undefined ? { retryAfterMs: ra } : {}), error: SinkErrors.unavailable(`${what} failed: ${name}: ${asError(e).message}`, { cause: e }) };
}
