/**
 * CDK app entry: `npm run synth -w @mcpwatch/deploy` writes the CloudFormation template to
 * deploy/cdk.out (no AWS access needed); `npx cdk deploy --app "node dist/app.js"` (with the
 * aws-cdk CLI and credentials) deploys it. Context/env: MCPWATCH_IMAGE_URI (else the image is
 * built from collector/Dockerfile), MCPWATCH_CERTIFICATE_ARN, CDK_DEFAULT_ACCOUNT/REGION.
 */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { CollectorStack } from './collector-stack.js';

/** Builds the app (tests call this with an outdir). */
export function buildCdkApp(opts: { outdir?: string; env?: Record<string, string | undefined> } = {}): App {
  const env = opts.env ?? process.env;
  const app = new App(opts.outdir ? { outdir: opts.outdir } : {});
  new CollectorStack(app, 'McpwatchCollector', {
    repoRoot: resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'),
    ...(env.MCPWATCH_IMAGE_URI ? { imageUri: env.MCPWATCH_IMAGE_URI } : {}),
    ...(env.MCPWATCH_CERTIFICATE_ARN ? { certificateArn: env.MCPWATCH_CERTIFICATE_ARN } : {}),
    ...(env.CDK_DEFAULT_ACCOUNT || env.CDK_DEFAULT_REGION ? { env: { account: env.CDK_DEFAULT_ACCOUNT, region: env.CDK_DEFAULT_REGION } } : {}),
  });
  return app;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCdkApp({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' }).synth();
}
