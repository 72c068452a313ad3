/**
 * The collector's AWS deployment as one CDK stack:
 * - a Kinesis data stream (KMS-encrypted) the collector publishes every event to;
 * - Secrets Manager secrets for the enroll secret and the admin token (generated), and the RDS
 *   PostgreSQL credentials;
 * - RDS PostgreSQL (encrypted, private subnets, reachable only from the service);
 * - an ECS Fargate service of the collector image behind an internet-facing ALB (HTTPS when a
 *   certificate ARN is given; the container serves HTTPS with its embedded certificate);
 * - a least-privilege task role: kinesis:PutRecords and kinesis:DescribeStreamSummary on the
 *   stream only, securityhub:BatchImportFindings on the account's default product only.
 * Collectors are stateless: several tasks share the database (outbox rows are claimed with
 * FOR UPDATE SKIP LOCKED), so desiredCount can grow.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { InstanceClass, InstanceSize, InstanceType, Port, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, ContainerInsights, Secret as EcsSecret } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancedFargateService } from 'aws-cdk-lib/aws-ecs-patterns';
import { ApplicationProtocol, Protocol } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption } from 'aws-cdk-lib/aws-kinesis';
import { Credentials, DatabaseInstance, DatabaseInstanceEngine, PostgresEngineVersion } from 'aws-cdk-lib/aws-rds';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

export interface CollectorStackProps extends StackProps {
  /** Image URI to run; default: built from collector/Dockerfile in `repoRoot` at deploy time. */
  imageUri?: string;
  /** Repository root for the image asset (when imageUri is not given). */
  repoRoot?: string;
  /** ACM certificate ARN for an HTTPS listener; without it the ALB listens on HTTP 80. */
  certificateArn?: string;
  /** Collector tasks (default 2). */
  desiredCount?: number;
  /** Kinesis shards (default 2). */
  kinesisShards?: number;
  /** Turn Security Hub publishing on (default true). */
  securityHub?: boolean;
}

export const CONTAINER_PORT = 8443;

export class CollectorStack extends Stack {
  readonly stream: Stream;
  readonly taskRole: Role;
  readonly enrollSecret: Secret;
  readonly adminToken: Secret;
  readonly database: DatabaseInstance;
  readonly service: ApplicationLoadBalancedFargateService;

  constructor(scope: Construct, id: string, props: CollectorStackProps = {}) {
    super(scope, id, props);

    const vpc = new Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });

    this.stream = new Stream(this, 'Events', {
      shardCount: props.kinesisShards ?? 2,
      encryption: StreamEncryption.MANAGED,
      retentionPeriod: Duration.hours(24),
    });

    this.enrollSecret = new Secret(this, 'EnrollSecret', {
      description: 'mcpwatch enroll secret agents present at enrollment',
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
    });
    this.adminToken = new Secret(this, 'AdminToken', {
      description: 'mcpwatch bootstrap admin bearer token',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });

    this.database = new DatabaseInstance(this, 'Database', {
      engine: DatabaseInstanceEngine.postgres({ version: PostgresEngineVersion.VER_16 }),
      instanceType: InstanceType.of(InstanceClass.T4G, InstanceSize.MEDIUM),
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      credentials: Credentials.fromGeneratedSecret('mcpwatch'),
      databaseName: 'mcpwatch',
      storageEncrypted: true,
      multiAz: false,
      allocatedStorage: 20,
      backupRetention: Duration.days(7),
      publiclyAccessible: false,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });

    // Least privilege: only what the sinks call.
    this.taskRole = new Role(this, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'mcpwatch collector: publish to its Kinesis stream and import findings to Security Hub',
    });
    this.taskRole.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['kinesis:PutRecords', 'kinesis:DescribeStreamSummary'],
        resources: [this.stream.streamArn],
      }),
    );
    // The stream is KMS-encrypted with the AWS managed key: producers need no KMS grant for it.
    if (props.securityHub ?? true) {
      this.taskRole.addToPolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['securityhub:BatchImportFindings'],
          resources: [`arn:${this.partition}:securityhub:${this.region}:${this.account}:product/${this.account}/default`],
        }),
      );
    }

    const image = props.imageUri
      ? ContainerImage.fromRegistry(props.imageUri)
      : ContainerImage.fromAsset(props.repoRoot ?? '.', {
          file: 'collector/Dockerfile',
          exclude: ['**/node_modules', '**/dist', '**/cdk.out', '.git', '**/*.tsbuildinfo'],
        });
    const dbSecret = this.database.secret!;
    const cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });
    this.service = new ApplicationLoadBalancedFargateService(this, 'Collector', {
      cluster,
      desiredCount: props.desiredCount ?? 2,
      cpu: 1024,
      memoryLimitMiB: 2048,
      publicLoadBalancer: true,
      ...(props.certificateArn
        ? { protocol: ApplicationProtocol.HTTPS, certificate: Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn), redirectHTTP: true }
        : { protocol: ApplicationProtocol.HTTP }),
      targetProtocol: ApplicationProtocol.HTTPS,
      taskSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      taskImageOptions: {
        image,
        containerPort: CONTAINER_PORT,
        taskRole: this.taskRole,
        environment: {
          MCPWATCH_LISTEN: `0.0.0.0:${CONTAINER_PORT}`,
          MCPWATCH_TLS: 'embedded',
          MCPWATCH_DATA_DIR: '/var/lib/mcpwatch',
          MCPWATCH_KINESIS_STREAM: this.stream.streamName,
          MCPWATCH_SECURITYHUB: (props.securityHub ?? true) ? 'on' : 'off',
          MCPWATCH_AWS_ACCOUNT_ID: this.account,
          AWS_REGION: this.region,
          // Credentials come as PGUSER/PGPASSWORD (node-postgres reads them); the URL has none.
          DATABASE_URL: `postgres://${this.database.dbInstanceEndpointAddress}:${this.database.dbInstanceEndpointPort}/mcpwatch?sslmode=no-verify`,
        },
        secrets: {
          MCPWATCH_ENROLL_SECRET: EcsSecret.fromSecretsManager(this.enrollSecret),
          MCPWATCH_ADMIN_TOKEN: EcsSecret.fromSecretsManager(this.adminToken),
          PGUSER: EcsSecret.fromSecretsManager(dbSecret, 'username'),
          PGPASSWORD: EcsSecret.fromSecretsManager(dbSecret, 'password'),
        },
      },
    });
    this.service.targetGroup.configureHealthCheck({ path: '/healthz', protocol: Protocol.HTTPS, healthyHttpCodes: '200' });
    this.database.connections.allowFrom(this.service.service, Port.tcp(5432), 'collector tasks to PostgreSQL');

    new CfnOutput(this, 'StreamName', { value: this.stream.streamName });
    new CfnOutput(this, 'CollectorUrl', { value: `${props.certificateArn ? 'https' : 'http'}://${this.service.loadBalancer.loadBalancerDnsName}` });
    new CfnOutput(this, 'EnrollSecretArn', { value: this.enrollSecret.secretArn });
    new CfnOutput(this, 'AdminTokenArn', { value: this.adminToken.secretArn });
  }
}
