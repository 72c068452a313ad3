/**
 * Offline checks of the CDK app: it synthesizes, and the template has the resources and the
 * least-privilege permissions the collector needs (aws-cdk-lib/assertions). No AWS access.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildCdkApp } from '../src/app.js';
import { CollectorStack, CONTAINER_PORT } from '../src/collector-stack.js';

function template(props: ConstructorParameters<typeof CollectorStack>[2] = {}): Template {
  const app = new App();
  const stack = new CollectorStack(app, 'Test', { imageUri: 'example.invalid/mcpwatch-collector:test', env: { account: '123456789012', region: 'eu-west-1' }, ...props });
  return Template.fromStack(stack);
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

// One synthesized app serves the checks below (building a stack takes seconds).
const outdir = mkdtempSync(join(tmpdir(), 'mcpw-cdk-'));
const app = buildCdkApp({ outdir, env: { MCPWATCH_IMAGE_URI: 'example.invalid/mcpwatch-collector:test', CDK_DEFAULT_ACCOUNT: '123456789012', CDK_DEFAULT_REGION: 'eu-west-1' } });
const assembly = app.synth();
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('CollectorStack', () => {
  const t = Template.fromStack(app.node.findChild('McpwatchCollector') as CollectorStack);

  it('has an encrypted Kinesis stream', () => {
    t.resourceCountIs('AWS::Kinesis::Stream', 1);
    t.hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: 2, StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } });
  });

  it('gives the task role exactly PutRecords/DescribeStreamSummary on the stream and BatchImportFindings on the default product', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const roles = t.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs-tasks.amazonaws.com' } })] } } });
    const taskRoleId = Object.keys(roles).find((id) => id.startsWith('TaskRole'))!;
    expect(taskRoleId).toBeDefined();
    const mine = Object.values(policies).filter((p) => JSON.stringify(p.Properties.Roles).includes(taskRoleId));
    const statements = mine.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
    expect(actions).toEqual(['kinesis:DescribeStreamSummary', 'kinesis:PutRecords', 'securityhub:BatchImportFindings']);
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      expect(s.Resource).not.toBe('*');
    }
    const kinesis = statements.find((s) => JSON.stringify(s.Action).includes('kinesis'))!;
    expect(kinesis.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Events/), 'Arn'] });
    const hub = statements.find((s) => JSON.stringify(s.Action).includes('securityhub'))!;
    expect(JSON.stringify(hub.Resource)).toContain(':securityhub:eu-west-1:123456789012:product/123456789012/default');
  });

  it('runs the collector on ECS Fargate behind an internet-facing ALB, health-checked on /healthz over HTTPS', () => {
    t.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 2 });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'application' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'HTTPS', TargetType: 'ip', HealthCheckPath: '/healthz', HealthCheckProtocol: 'HTTPS' });
    t.hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [Match.objectLike({ ContainerPort: CONTAINER_PORT })] });
  });

  it('passes the outlet configuration as env and the secrets from Secrets Manager (never as plain env)', () => {
    const td = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0]!;
    const c = td.Properties.ContainerDefinitions[0];
    const env = Object.fromEntries((c.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({ MCPWATCH_SECURITYHUB: 'on', MCPWATCH_AWS_ACCOUNT_ID: '123456789012', AWS_REGION: 'eu-west-1', MCPWATCH_TLS: 'embedded' });
    expect(env.MCPWATCH_KINESIS_STREAM).toEqual({ Ref: expect.stringMatching(/^Events/) });
    const secretNames = (c.Secrets as Array<{ Name: string }>).map((s) => s.Name).sort();
    expect(secretNames).toEqual(['MCPWATCH_ADMIN_TOKEN', 'MCPWATCH_ENROLL_SECRET', 'PGPASSWORD', 'PGUSER']);
    for (const name of secretNames) expect(env[name]).toBeUndefined();
    expect(JSON.stringify(env.DATABASE_URL)).not.toMatch(/password/i);
  });

  it('has generated secrets for the enroll secret, the admin token and the database', () => {
    t.resourceCountIs('AWS::SecretsManager::Secret', 3);
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Description: Match.stringLikeRegexp('enroll secret'), GenerateSecretString: Match.objectLike({ PasswordLength: 40 }) });
  });

  it('has an encrypted private RDS PostgreSQL reachable from the service only', () => {
    t.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true, PubliclyAccessible: false, DBName: 'mcpwatch' });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: Match.anyValue() });
  });

  it('leaves out Security Hub permissions when Security Hub is off, and listens HTTPS with a certificate', () => {
    const off = template({ securityHub: false, certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' });
    expect(JSON.stringify(off.findResources('AWS::IAM::Policy'))).not.toContain('securityhub');
    off.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443 });
  });
});

describe('CDK app synth', () => {
  it('writes a cloud assembly with the stack template', () => {
    const file = join(outdir, 'McpwatchCollector.template.json');
    expect(existsSync(file)).toBe(true);
    const tpl = JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = new Set(Object.values(tpl.Resources).map((r) => r.Type));
    for (const type of ['AWS::Kinesis::Stream', 'AWS::ECS::Service', 'AWS::RDS::DBInstance', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::SecretsManager::Secret']) expect(types).toContain(type);
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['McpwatchCollector']);
  });
});
