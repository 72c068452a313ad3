/**
 * One place that turns anything thrown inside a route into the collector's error reply
 * `{ statusCode, code, message }` (+ Retry-After for 429/503). Fastify's own errors (body too
 * large, unsupported media type, bad JSON, route-schema validation) are mapped to MCPW_ERR_* codes
 * so clients and metrics see one vocabulary. 5xx messages are generic; the cause is logged, never sent.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { CollectorError, Errors, isCollectorError } from './errors.js';

/** Seconds a client should wait after a 503 without a more precise hint. */
const DEFAULT_RETRY_AFTER_S = 5;

/** The CollectorError for any thrown value. */
export function toCollectorError(err: unknown): CollectorError {
  if (isCollectorError(err)) return err;
  const e = err as FastifyError & { validation?: unknown; validationContext?: string };
  if (e && Array.isArray(e.validation)) {
    return Errors.schema(`${e.validationContext ?? 'request'} does not match the schema: ${e.message}`, { cause: err });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.tooLarge('body is larger than this route accepts', { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return Errors.contentType(`unsupported content type: ${e.message}`, { cause: err });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return Errors.malformed(`body is not valid JSON: ${e.message}`, { cause: err });
    default:
      break;
  }
  if (e instanceof SyntaxError || e?.statusCode === 400) return Errors.malformed(e.message, { cause: err });
  if (e?.statusCode === 413) return Errors.tooLarge(e.message, { cause: err });
  if (e?.statusCode === 415) return Errors.contentType(e.message, { cause: err });
  return Errors.internal(undefined, { cause: err });
}

/** Installs the error and not-found handlers on the root instance (children inherit them). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const ce = toCollectorError(err);
    if (ce.statusCode >= 500) req.log.error({ err: ce, cause: ce.cause }, `${ce.code}: ${ce.message}`);
    else req.log.info({ code: ce.code, url: req.routeOptions.url }, ce.message);
    const retryAfterS = ce.retryAfterS ?? (ce.statusCode === 503 ? DEFAULT_RETRY_AFTER_S : undefined);
    if (retryAfterS !== undefined) void reply.header('retry-after', String(retryAfterS));
    const message = ce.statusCode >= 500 && ce.code === Errors.internal.code ? 'internal error' : ce.message;
    return reply.code(ce.statusCode).send({ statusCode: ce.statusCode, code: ce.code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({ statusCode: 404, code: Errors.notFound.code, message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });
}
