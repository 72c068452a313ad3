/**
 * The PostgreSQL test harness: an unreachable server skips the PostgreSQL cases with the reason,
 * except under CI=true where it fails; a reachable one runs both engines.
 */
import { engineCases } from '../support/pg.js';

const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/test';

test('unreachable PostgreSQL: the PostgreSQL cases are skipped and the reason is announced', async () => {
  const warnings: string[] = [];
  expect(await engineCases({ url: UNREACHABLE, env: {}, warn: (m) => warnings.push(m) })).toEqual(['sqlite']);
  expect(warnings).toEqual([expect.stringMatching(/^SKIPPED PostgreSQL store tests: PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test is unreachable: .*ECONNREFUSED/)]);
});

test('unreachable PostgreSQL under CI=true is a failure, never a skip', async () => {
  await expect(engineCases({ url: UNREACHABLE, env: { CI: 'true' }, warn: () => undefined })).rejects.toThrow(/CI=true and PostgreSQL at .* is unreachable/);
});
