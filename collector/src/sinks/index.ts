/**
 * The collector's outlets: the one Sink interface and its implementations (Kinesis, Security Hub,
 * file), their renderings (Kinesis records, OCSF, ASFF) and the retry/rate-limit helpers.
 */
export * from './types.js';
export { withRetry, unrefSleep, type RetryOptions } from './retry.js';
export { TokenBucket, type RateLimiterOptions } from './rate-limiter.js';
export { awsClientConfig, type AwsClientOptions } from './aws-client-config.js';
export { classifyAwsError, isThrottle } from './aws-errors.js';
export { SinkErrors } from '../errors.js';
export { renderKinesisRecords, chunkRecords, KINESIS_LIMITS, RECORD_SCHEMA, type KinesisRecordSpec, type RenderOptions } from './kinesis-records.js';
export { KinesisSink, createKinesisClient, type KinesisSender, type KinesisSinkOptions } from './kinesis-sink.js';
export { SecurityHubSink, FindingRenderer, createSecurityHubClient, chunkFindings, type SecurityHubSender, type SecurityHubSinkOptions, type HostLookup } from './securityhub-sink.js';
export { FileSink, PLACEHOLDER_ACCOUNT_ID, type FileSinkOptions } from './file-sink.js';
export { WebhookSink, slackMessage, jsonMessage, toNotification, type WebhookSinkOptions, type WebhookNotification, type WebhookFormat } from './webhook-sink.js';
export { FirstSeenMemory, type FindingTimes } from './first-seen-memory.js';
export { toAsff, asffId, collectorEventAsff, collectorAsffId, productArn, ASFF_SCHEMA_VERSION, ASFF_LIMITS, type AsffFinding } from './asff.js';
export { collectorFindingText, isCollectorEvent } from './collector-findings.js';
export { toOcsf, OCSF_VERSION, type OcsfEvent } from './ocsf.js';
export { createSinks, stsAccountId, type OutletConfig, type SinkFactoryDeps } from './sink-factory.js';
