/**
 * POST /v1/enroll with odd host content, on both engines: NUL characters in the host facts or the
 * agent version are stored as U+FFFD (PostgreSQL text cannot hold NUL: the enrollment failed with
 * a 500), and properties the EnrollRequest schema does not name are dropped, not stored.
 */
import { useFixture, ENROLL_SECRET } from '../support/collector-fixture.js';
import { engineCases } from '../support/pg.js';
import { enrollRequest } from '@mcpwatch/testkit';

describe.each(await engineCases())('POST /v1/enroll content (%s store)', (engine) => {
  const fx = useFixture({ engine });

  test('NUL characters in host facts and agent version are stored as U+FFFD', async () => {
    const host = { hostname: 'mac\u0000book', hardwareUuid: 'hw-\u0000-1', users: ['al\u0000ice'] };
    const { response } = await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, host, agentVersion: 'agent/1.0\u0000' });
    expect({ status: response.status, code: (response.json as { code?: string }).code }).toEqual({ status: 200, code: undefined });
    const { agentId, endpointId } = response.json as { agentId: string; endpointId: string };
    const detail = await fx.store.getEndpoint(endpointId);
    expect(detail?.endpoint).toMatchObject({ hostname: 'mac\uFFFDbook', hardwareUuid: 'hw-\uFFFD-1', users: ['al\uFFFDice'] });
    expect(await fx.store.getAgent(agentId)).toMatchObject({ hostname: 'mac\uFFFDbook' });
  });

  test('host properties the schema does not name are dropped, not stored', async () => {
    const { response } = await enrollRequest(fx.transport, { enrollSecret: ENROLL_SECRET, host: { hostname: 'junk-host', junk: 'x'.repeat(100_000) } as never });
    expect(response.status).toBe(200);
    const detail = await fx.store.getEndpoint((response.json as { endpointId: string }).endpointId);
    expect(JSON.stringify(detail)).not.toContain('x'.repeat(1000));
  });
});
