/**
 * Containment notifications through the outbox (issue 16: "webhook ... for containment actions,
 * through the outbox"): when a command is issued (by an analyst, the dashboard, the analyst MCP
 * server or auto-containment), the collector records a `command.issued` event for the endpoint —
 * in its event history (the endpoint's timeline shows it) and as an outbox row of the webhook sink,
 * in one transaction — so the webhook drainer delivers it like any other notification: durable,
 * retried, rate-limited, signed when a webhook secret is configured (sinks/webhook-sink.ts).
 * The agent's answer (`server.quarantined` / `server.restored` / `command.failed`) reaches the
 * webhook on its own path: it is an agent event, enqueued by the projector (store/sink-routing.ts).
 *
 * Promises: the event is recorded whatever the sinks (the timeline shows every issued command);
 * nothing is enqueued when the webhook sink is not configured. The event carries the
 * command id, action, server key and name, reason, who issued it, when and until when — never the
 * signed command. Failure: rejects with the database's error (the Containment service reports it;
 * the command itself stays issued).
 */
import type { Kysely } from 'kysely';
import { newEventId } from '@mcpwatch/shared';
import type { Store } from '../store/types.js';
import { WEBHOOK_SINK } from '../store/sink-routing.js';
import type { ContainmentNotice } from './containment-service.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The collector's event type for an issued containment command. */
export const COMMAND_ISSUED = 'command.issued';

/** `data` of a `command.issued` event. */
export interface CommandIssuedData {
  commandId: string;
  action: string;
  serverKey: string;
  serverName: string | null;
  reason: string;
  issuedBy: { tokenId: string; name: string };
  requestedAt: string;
  expiresAt: string;
}

export interface ContainmentNotifierOptions {
  db: AnyDb;
  store: Pick<Store, 'listAgents'>;
  /** The configured sinks (config.sinks). */
  sinks: readonly string[];
  now: () => number;
  /** The server's name on the endpoint (present in the inventory or not). */
  serverName: (endpointId: string, serverKey: string) => Promise<string | null>;
}

/** A Containment listener (Containment.onNotice) that records `command.issued` and enqueues it for the webhook sink. */
export function containmentNotifier(o: ContainmentNotifierOptions): (n: ContainmentNotice) => Promise<void> {
  return async (n) => {
    if (n.kind !== 'issued') return;
    const r = n.record;
    // The endpoint's enrolled agent: the webhook sink names the host from it.
    const agents = await o.store.listAgents({ endpointId: r.endpointId, revoked: false });
    const agentId = agents[0]?.agentId ?? 'collector';
    const nowMs = o.now();
    const nowIso = new Date(nowMs).toISOString();
    const id = newEventId(nowMs);
    const data: CommandIssuedData = {
      commandId: r.commandId,
      action: r.action,
      serverKey: r.serverKey,
      serverName: await o.serverName(r.endpointId, r.serverKey),
      reason: r.reason,
      issuedBy: r.actor,
      requestedAt: r.requestedAt,
      expiresAt: r.expiresAt,
    };
    await o.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('events')
        .values({ id, endpoint_id: r.endpointId, agent_id: agentId, type: COMMAND_ISSUED, time: r.requestedAt, received_at: nowIso, batch_seq: 0, data: JSON.stringify(data) })
        .execute();
      if (!o.sinks.includes(WEBHOOK_SINK)) return;
      await trx
        .insertInto('outbox')
        .values({
          id,
          sink: WEBHOOK_SINK,
          endpoint_id: r.endpointId,
          agent_id: agentId,
          batch_seq: 0,
          cert_fingerprint: agents[0]?.certFingerprint ?? '',
          event_ids: JSON.stringify([id]),
          event_count: 1,
          attempts: 0,
          created_at: nowIso,
          available_at: nowIso,
          lease_owner: null,
          lease_until: null,
          last_error: null,
        })
        .execute();
    });
  };
}
