/**
 * `mcpwatch-agent enroll --server URL --secret S [--ca-fingerprint F] [--state-dir DIR]`: obtains
 * the agent's identity from the collector (pipeline/enroll-client.ts). Server, secret and pin may
 * also come from the environment, a config file or the MDM-managed places (config/). Exit 0 when
 * enrolled, 2 on usage errors, 3 when the collector refused or could not be reached.
 */
import os from 'node:os';
import { loadConfig } from '../config/load-config.js';
import { splitConfigArgs } from '../config/config-argv.js';
import { systemHostFacts, hostInfo } from '../collect/host-facts.js';
import { UsageError } from '../errors.js';
import { enroll } from '../enroll/enroll-client.js';
import { describeError } from '../errors.js';
import { AGENT_VERSION } from '../runtime/agent-version.js';
import { hostPlatform } from '../platform/os.js';
import type { Command } from './command.js';

const HELP = `usage: mcpwatch-agent enroll --server URL --secret S [--ca-fingerprint F] [--state-dir DIR] [--config FILE]

  --server URL          collector base URL (https; http only for loopback)   [MCPWATCH_SERVER]
  --secret S            enroll secret (prefer the environment variable)      [MCPWATCH_ENROLL_SECRET]
  --ca-fingerprint F    SHA-256 fingerprint of the collector's CA to pin (printed by the collector as
                        "CA fingerprint (sha256, pin this in agents)"; never the server certificate's)
                                                                             [MCPWATCH_CA_FINGERPRINT]
  --state-dir DIR       where the key, certificate and state are kept        [MCPWATCH_STATE_DIR]
  --config FILE         a JSON config file                                   [MCPWATCH_CONFIG]
`;

export const enrollCommand: Command = {
  name: 'enroll',
  summary: 'enroll this machine with a collector (key pair, CSR, pinned collector CA)',
  options: ['help'],
  async run(argv, io) {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.stdout(HELP);
      return 0;
    }
    const { config: cli, rest } = splitConfigArgs(argv);
    if (rest.length > 0) throw new UsageError(`unknown argument "${rest[0]}"`);
    const loaded = await loadConfig({ cli, env: io.env });
    for (const w of loaded.warnings) io.stderr(`mcpwatch-agent: config: ${w}\n`);
    const { server, enrollSecret, caFingerprint, stateDir } = loaded.config;
    if (!server) throw new UsageError('--server URL is required (or MCPWATCH_SERVER)');
    if (!enrollSecret) throw new UsageError('--secret S is required (or MCPWATCH_ENROLL_SECRET)');
    const platform = hostPlatform();
    try {
      const facts = await systemHostFacts();
      const id = await enroll({
        server,
        secret: enrollSecret,
        caFingerprint,
        stateDir,
        host: hostInfo(facts, platform, [os.userInfo().username]),
        agentVersion: AGENT_VERSION,
        timeoutMs: loaded.config.requestTimeoutMs,
      });
      io.stdout(
        `enrolled with ${id.record.server}\n  agent id:    ${id.record.agentId}\n  endpoint id: ${id.record.endpointId}\n` +
          `  certificate: valid until ${id.record.certNotAfter}\n  state dir:   ${stateDir}\n`,
      );
      return 0;
    } catch (e) {
      io.stderr(`mcpwatch-agent enroll: ${describeError(e)}\n`);
      return 3;
    }
  },
};
