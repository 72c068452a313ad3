/**
 * POST /v1/commands/wait — the containment long-poll (issue 16: command issued → config changed,
 * p95 ≤ 2 s). An enrolled agent keeps one of these open; the collector answers as soon as a
 * command for the agent's endpoint is queued, or empty after the hold.
 *
 * Wire format (the agent's ship/command-wait.ts follows exactly this), signed like a batch
 * (routes/batches.ts), over an uncompressed body:
 *   POST /v1/commands/wait
 *   Content-Type: application/json
 *   x-mcpwatch-agent / x-mcpwatch-seq / x-mcpwatch-timestamp / x-mcpwatch-signature: as for
 *     POST /v1/batches, the signature over the body bytes as sent (seq: the agent's wait counter)
 *   body: {"kind":"commands.wait","maxWaitMs":<0..600000>}
 *     `kind` keeps a wait's signature from ever passing as a batch's (a batch body is gzip) and back.
 *
 * Checks, in the batch route's order: headers (400) -> agent known (401; 429 past the abuse
 * guard's limit) / not revoked (403) / certificate not expired (401) -> timestamp window (401) ->
 * signature (401) -> body (400) -> replay guard (409 MCPW_ERR_REPLAYED: the signed timestamp + seq
 * must be later than those of every wait of this agent accepted before, a later timestamp or the
 * same one with a higher seq; kept per agent in the database, so a captured wait sent again within
 * the clock window is refused by every collector sharing it) -> one wait per agent (429 + Retry-After: a second concurrent wait
 * of the same agent is refused, the first is kept) -> at most commandWaitMaxHeld waits on this
 * collector (503 + Retry-After).
 * Hold: min(maxWaitMs, commandWaitHoldMs, httpRequestTimeoutMs and httpIdleTimeoutMs less a
 * second), so the listener's own timeouts never cut a held request.
 * Replies: 200 {commands: SignedCommand[]} — the endpoint's queued commands (marked delivered; they
 * still ride in acks until answered) or [] after the hold. The wait ends early, empty, when the
 * client hangs up or the collector closes. Error body: { statusCode, code: "MCPW_ERR_*", message }.
 */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../errors.js';
import { authenticateSignedAgentRequest, storeFailure } from '../routes/signed-agent-request.js';
import type { Containment } from './containment-service.js';

/** The body a wait is signed over (its `kind`). */
export const COMMAND_WAIT_KIND = 'commands.wait';
const MAX_BODY_BYTES = 1024;
/** Margin kept under the listener's request and idle timeouts. */
const LISTENER_MARGIN_MS = 1000;

/** The route; `containment` null (no SQL store) answers 503. */
export function commandWaitRoute(containment: Containment | null): FastifyPluginAsync {
  return async (app) => {
    const { config } = app.collector;
    const holdCapMs = Math.max(0, Math.min(config.commandWaitHoldMs, config.httpRequestTimeoutMs - LISTENER_MARGIN_MS, config.httpIdleTimeoutMs - LISTENER_MARGIN_MS));
    /** Held waits by agent id: at most one each. */
    const held = new Map<string, AbortController>();
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
      for (const c of held.values()) c.abort();
    });

    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => {
      done(null, body);
    });

    app.post<{ Body: Buffer }>('/v1/commands/wait', { bodyLimit: MAX_BODY_BYTES }, async (req, reply) => {
      const { agentId, seq, timestampMs, body, agent } = await authenticateSignedAgentRequest(app, req, 'wait');

      let doc: { kind?: unknown; maxWaitMs?: unknown };
      try {
        doc = JSON.parse(body.toString('utf8')) as typeof doc;
      } catch (e) {
        throw Errors.malformed(`wait body is not valid JSON: ${(e as Error).message}`, { cause: e });
      }
      if (doc === null || typeof doc !== 'object' || doc.kind !== COMMAND_WAIT_KIND) throw Errors.malformed(`wait body must be {"kind":"${COMMAND_WAIT_KIND}","maxWaitMs":N}`);
      const maxWaitMs = doc.maxWaitMs;
      if (typeof maxWaitMs !== 'number' || !Number.isInteger(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 600_000) throw Errors.malformed('wait body maxWaitMs must be an integer from 0 to 600000');
      if (!containment) throw Errors.storeUnavailable('containment needs the SQL store', { retryAfterS: 300 });
      const fresh = await containment.claimWaitMark(agentId, timestampMs, seq).catch(storeFailure);
      if (!fresh) throw Errors.replayed(`wait signed at ${timestampMs} with seq ${seq} is not later than a wait of this agent already accepted (a replay, or a clock set back)`);
      if (closing) throw Errors.overloaded('the collector is closing', { retryAfterS: 5 });
      if (held.has(agentId)) throw Errors.rateLimited('a command wait of this agent is already held; one at a time', { retryAfterS: 1 });
      if (held.size >= config.commandWaitMaxHeld) throw Errors.overloaded(`${config.commandWaitMaxHeld} command waits already held on this collector`, { retryAfterS: 5 });

      const ctl = new AbortController();
      held.set(agentId, ctl);
      // The client hung up before the answer: end the wait (and free its slot) now. It may have hung
      // up while the checks above were awaited, before this listener existed ('close' already
      // emitted): then the socket is already destroyed, and the wait ends at once.
      const onClose = (): void => ctl.abort();
      reply.raw.once('close', onClose);
      const clientGone = (): boolean => ctl.signal.aborted || reply.raw.destroyed || req.raw.socket?.destroyed === true;
      if (clientGone()) ctl.abort();
      try {
        return { commands: await containment.waitForCommands(agent.row.endpointId, Math.min(maxWaitMs, holdCapMs), ctl.signal, clientGone) };
      } finally {
        reply.raw.off('close', onClose);
        held.delete(agentId);
      }
    });
  };
}
