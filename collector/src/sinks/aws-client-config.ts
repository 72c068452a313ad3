/**
 * The one way our AWS SDK clients are configured: HTTP/1.1 through NodeHttpHandler (the default
 * HTTP/2 handler fails against local emulators), an optional endpoint override, credentials from
 * the default provider chain unless given (tests pass static ones), and the SDK's own retries off
 * (maxAttempts 1) because retry lives in retry.ts.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';

export interface AwsClientOptions {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  requestTimeoutMs?: number;
}

/** Constructor options shared by our Kinesis, Security Hub and STS clients. */
export function awsClientConfig(o: AwsClientOptions) {
  return {
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ requestTimeout: o.requestTimeoutMs ?? 10_000, connectionTimeout: 3_000 }),
  };
}
