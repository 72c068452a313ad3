/**
 * Builds the configured sinks from the collector's configuration (config.ts, "outlets" keys):
 * `kinesis` (MCPWATCH_KINESIS_STREAM), `securityhub` (MCPWATCH_SECURITYHUB=on) and `file` (the
 * default without AWS), `webhook` (MCPWATCH_WEBHOOK_URL). Credentials come from the default AWS provider chain; the account id for
 * ASFF from MCPWATCH_AWS_ACCOUNT_ID, else STS GetCallerIdentity. Clients may be injected (tests).
 */
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CollectorConfig } from '../config.js';
import { awsClientConfig } from './aws-client-config.js';
import { FileSink } from './file-sink.js';
import { FirstSeenMemory } from './first-seen-memory.js';
import { createKinesisClient, KinesisSink, type KinesisSender } from './kinesis-sink.js';
import type { RenderOptions } from './kinesis-records.js';
import { createSecurityHubClient, SecurityHubSink, type HostLookup, type SecurityHubSender } from './securityhub-sink.js';
import { SinkErrors } from '../errors.js';
import { WebhookSink } from './webhook-sink.js';
import type { CountingSink } from './types.js';

export type OutletConfig = Pick<
  CollectorConfig,
  | 'dataDir'
  | 'sinks'
  | 'kinesisStream'
  | 'kinesisEndpoint'
  | 'securityHub'
  | 'securityHubEndpoint'
  | 'awsAccountId'
  | 'awsRegion'
  | 'ocsf'
  | 'fileSinkDir'
  | 'fileSinkMaxBytes'
  | 'sinkSendDeadlineMs'
  | 'webhookUrl'
  | 'webhookFormat'
  | 'webhookMinSeverity'
  | 'webhookRatePerS'
  | 'webhookSecret'
>;

export interface SinkFactoryDeps {
  kinesisClient?: KinesisSender;
  securityHubClient?: SecurityHubSender;
  /** Resolves the AWS account id when not configured (default: STS GetCallerIdentity). */
  resolveAccountId?: (region: string) => Promise<string>;
  hostOf?: HostLookup;
  onOversize?: RenderOptions['onOversize'];
  onRejected?: (info: { id: string; errorCode: string; errorMessage: string; rowIds: string[] }) => void;
  /** The webhook sink's HTTP client (default global fetch). */
  fetch?: typeof fetch;
}

/** The calling identity's account id, from STS. */
export async function stsAccountId(region: string): Promise<string> {
  const sts = new STSClient(awsClientConfig({ region }));
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Account) throw new Error('GetCallerIdentity returned no Account');
    return out.Account;
  } finally {
    sts.destroy();
  }
}

/** Builds one sink per name in `config.sinks`. Throws MCPW_ERR_SINK_CONFIG when one cannot be built. */
export async function createSinks(config: OutletConfig, deps: SinkFactoryDeps = {}): Promise<CountingSink[]> {
  const out: CountingSink[] = [];
  const ocsf = config.ocsf === 'on';
  const oversize = deps.onOversize ? { onOversize: deps.onOversize } : {};
  // The account id first: when it cannot be found, no client has been created yet.
  let accountId = config.awsAccountId;
  if (config.sinks.includes('securityhub') && !accountId) {
    try {
      accountId = await (deps.resolveAccountId ?? stsAccountId)(config.awsRegion);
    } catch (e) {
      throw SinkErrors.config(`cannot determine the AWS account id for Security Hub (STS GetCallerIdentity failed: ${(e as Error).message}); set MCPWATCH_AWS_ACCOUNT_ID`, { cause: e });
    }
  }
  try {
    await build();
  } catch (e) {
    await Promise.all(out.map((s) => s.shutdown().catch(() => undefined)));
    throw e;
  }
  return out;

  async function build(): Promise<void> {
    for (const name of config.sinks) {
      if (name === 'kinesis') {
        const client = deps.kinesisClient ?? createKinesisClient({ region: config.awsRegion, ...(config.kinesisEndpoint ? { endpoint: config.kinesisEndpoint } : {}) });
        out.push(new KinesisSink({ streamName: config.kinesisStream, client, ocsf, sendDeadlineMs: config.sinkSendDeadlineMs, ...oversize }));
      } else if (name === 'securityhub') {
        const memory = new FirstSeenMemory({ path: join(config.dataDir, 'outlets-state', 'securityhub-first-seen.json') });
        await memory.load();
        const client = deps.securityHubClient ?? createSecurityHubClient({ region: config.awsRegion, ...(config.securityHubEndpoint ? { endpoint: config.securityHubEndpoint } : {}) });
        out.push(
          new SecurityHubSink({
            accountId,
            region: config.awsRegion,
            memory,
            client,
            sendDeadlineMs: config.sinkSendDeadlineMs,
            ...(deps.hostOf ? { hostOf: deps.hostOf } : {}),
            ...(deps.onRejected ? { onRejected: deps.onRejected } : {}),
          }),
        );
      } else if (name === 'file') {
        const memory = new FirstSeenMemory({ path: join(config.fileSinkDir, 'first-seen.json') });
        await memory.load();
        out.push(
          new FileSink({
            dir: config.fileSinkDir,
            memory,
            ocsf,
            maxFileBytes: config.fileSinkMaxBytes,
            ...(config.awsAccountId ? { accountId: config.awsAccountId } : {}),
            ...(config.awsRegion ? { region: config.awsRegion } : {}),
            ...(deps.hostOf ? { hostOf: deps.hostOf } : {}),
            ...oversize,
          }),
        );
      } else if (name === 'webhook') {
        out.push(
          new WebhookSink({
            url: config.webhookUrl,
            format: config.webhookFormat,
            minSeverity: config.webhookMinSeverity,
            ratePerS: config.webhookRatePerS,
            sendDeadlineMs: config.sinkSendDeadlineMs,
            ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
            ...(deps.hostOf ? { hostOf: deps.hostOf } : {}),
            ...(deps.fetch ? { fetch: deps.fetch } : {}),
          }),
        );
      } else {
        throw SinkErrors.config(`unknown sink "${name}" (known: file, kinesis, securityhub, webhook)`);
      }
    }
  }
}
