/**
 * `mcpwatch-agent run [--state-dir DIR] [--home DIR --platform P] [config flags]`: the agent as a
 * service — watch engine → events → spool → signed shipper (wired in runtime/composition.ts), at low
 * priority (os.setPriority), every timer unref()'d. Enrolls first when it is not enrolled and a
 * server and secret are configured (the MDM / installer path). Runs until SIGINT/SIGTERM (the
 * IO signal). Exit 0 after a clean stop, 2 on usage errors, 3 when it cannot start (not enrolled,
 * another agent running on the same state dir).
 */
import os from 'node:os';
import { loadConfig } from '../config/load-config.js';
import { splitConfigArgs } from '../config/config-argv.js';
import { hostInfo } from '../collect/host-facts.js';
import { optionsHelp } from './cli-options.js';
import { acquireRunLock } from '../runtime/agent-runtime.js';
import { composeAgent } from '../runtime/composition.js';
import { enroll, loadIdentity } from '../enroll/enroll-client.js';
import { createLogger } from '../runtime/logger.js';
import { describeError } from '../errors.js';
import { AGENT_VERSION } from '../runtime/agent-version.js';
import { ensurePrivateDir } from '../spool/durable-file.js';
import { CONFIG_TABLE } from '../config/config-table.js';
import type { Command } from './command.js';
import { prepareScan } from './scan-setup.js';

const SCAN_FLAGS = ['home', 'platform', 'project-root', 'system-root', 'sources', 'debounce-ms', 'help'] as const;

export const runCommand: Command = {
  name: 'run',
  summary: 'run as the agent service: watch, spool and ship signed batches to the collector',
  options: SCAN_FLAGS,
  async run(argv, io) {
    const { config: cli, rest } = splitConfigArgs(argv);
    const setup = await prepareScan(rest, io, this.options);
    if (setup.values.help) {
      const cfg = Object.values(CONFIG_TABLE).map((s) => `  --${s.flag} V`.padEnd(34) + `${s.description} [${s.env}]`);
      io.stdout(`usage: mcpwatch-agent run [options]\n\n${optionsHelp(this.options)}\n  --config FILE                   a JSON config file [MCPWATCH_CONFIG]\n${cfg.join('\n')}\n`);
      return 0;
    }
    const loaded = await loadConfig({ cli, env: io.env });
    const config = loaded.config;
    const log = createLogger(config.logLevel, io.stderr);
    for (const w of loaded.warnings) log('warn', `config: ${w}`);
    ensurePrivateDir(config.stateDir);
    const users = setup.ctx.homes.map((h) => h.user);
    const host = async () => hostInfo(await setup.deps.hostFacts(), setup.ctx.platform, users.length ? users : [os.userInfo().username]);

    if (!loadIdentity(config.stateDir)) {
      if (!config.server || !config.enrollSecret) {
        io.stderr(`mcpwatch-agent run: not enrolled (no identity in ${config.stateDir}); run: mcpwatch-agent enroll --server URL --secret S\n`);
        return 3;
      }
      try {
        const id = await enroll({ server: config.server, secret: config.enrollSecret, caFingerprint: config.caFingerprint, stateDir: config.stateDir, host: await host(), agentVersion: AGENT_VERSION, timeoutMs: config.requestTimeoutMs });
        log('info', `enrolled: agent ${id.record.agentId}`);
      } catch (e) {
        io.stderr(`mcpwatch-agent run: enrollment failed: ${describeError(e)}\n`);
        return 3;
      }
    }
    const lock = acquireRunLock(config.stateDir);
    if (!lock.ok) {
      io.stderr(`mcpwatch-agent run: another agent (pid ${lock.pid}) is running on ${config.stateDir}\n`);
      return 3;
    }
    if (config.lowPriority) {
      try {
        os.setPriority(os.constants.priority.PRIORITY_LOW);
      } catch (e) {
        log('info', `could not lower the process priority: ${describeError(e)}`);
      }
    }
    const runtime = composeAgent({
      config,
      log,
      hostInfo: host,
      setup,
      ...(io.deps?.evaluateRules ? { evaluateRules: io.deps.evaluateRules } : {}),
      ...(io.onEvent ? { onEvent: io.onEvent } : {}),
    });
    const stopped = new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    try {
      await runtime.start();
    } catch (e) {
      io.stderr(`mcpwatch-agent run: ${describeError(e)}\n`);
      await runtime.shutdown();
      lock.release();
      return 3;
    }
    log('info', `running: endpoint ${runtime.endpointId}, state in ${config.stateDir}`);
    io.stderr(`mcpwatch-agent: running (endpoint ${runtime.endpointId}, state ${config.stateDir})\n`);
    // Keeps the process alive while running (every other timer is unref'd).
    const keepAlive = setInterval(() => undefined, 1 << 30);
    await stopped;
    clearInterval(keepAlive);
    await runtime.flush(2000).catch(() => false);
    await runtime.shutdown();
    lock.release();
    io.stderr('mcpwatch-agent: stopped\n');
    return 0;
  },
};
