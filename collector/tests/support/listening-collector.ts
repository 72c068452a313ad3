/**
 * A collector fixture listening on a loopback port for one describe block (started in beforeAll,
 * closed in afterAll), and the admin CLI's main() run in-process against it with the admin token
 * in its environment: what the CLI tests of several features share.
 */
import { main } from '../../src/admin-cli.js';
import { useFixture, type Fixture } from './collector-fixture.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ListeningCollector {
  /** The fixture (filled in by beforeAll). */
  readonly fx: Fixture;
  /** Runs `mcpwatch <argv>` against it and captures what it printed. */
  cli(argv: string[]): Promise<CliRun>;
}

/** Registers the beforeAll/afterAll of a collector with this admin token; call inside a describe. */
export function listeningCollector(adminToken: string): ListeningCollector {
  const fx = useFixture({ overrides: { adminToken } });
  let url = '';
  beforeAll(async () => {
    url = await fx.app.listen({ host: '127.0.0.1', port: 0 });
  });
  return {
    fx,
    async cli(argv) {
      let stdout = '';
      let stderr = '';
      const env = { MCPWATCH_SERVER: url, MCPWATCH_TOKEN: adminToken };
      const code = await main(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    },
  };
}
