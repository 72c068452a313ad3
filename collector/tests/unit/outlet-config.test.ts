import { loadConfig } from '../../src/config.js';

const base = { MCPWATCH_DATA_DIR: '/tmp/mcpw-outlet-config' };

describe('outlet configuration', () => {
  it('uses the file sink under the data dir when AWS is not configured', () => {
    const c = loadConfig({ env: base });
    expect(c.sinks).toEqual(['file']);
    expect(c.fileSinkDir).toBe('/tmp/mcpw-outlet-config/outlets');
    expect(c.ocsf).toBe('off');
  });

  it('turns Kinesis on with a stream and Security Hub with MCPWATCH_SECURITYHUB=on', () => {
    const c = loadConfig({
      env: { ...base, MCPWATCH_KINESIS_STREAM: 'mcp-events', MCPWATCH_KINESIS_ENDPOINT: 'http://127.0.0.1:4567', MCPWATCH_SECURITYHUB: 'on', AWS_REGION: 'eu-west-1', MCPWATCH_AWS_ACCOUNT_ID: '123456789012', MCPWATCH_OCSF: 'on' },
    });
    expect(c.sinks).toEqual(['kinesis', 'securityhub']);
    expect(c).toMatchObject({ kinesisStream: 'mcp-events', kinesisEndpoint: 'http://127.0.0.1:4567', awsRegion: 'eu-west-1', awsAccountId: '123456789012', ocsf: 'on' });
  });

  it('keeps an explicit sink list (file next to AWS)', () => {
    const c = loadConfig({ env: { ...base, MCPWATCH_SINKS: 'file,kinesis', MCPWATCH_KINESIS_STREAM: 's', AWS_DEFAULT_REGION: 'us-east-2' } });
    expect(c.sinks).toEqual(['file', 'kinesis']);
    expect(c.awsRegion).toBe('us-east-2');
  });

  it.each([
    [{ MCPWATCH_AWS_ACCOUNT_ID: '1234' }, /awsAccountId.*12 digits/],
    [{ MCPWATCH_OCSF: 'maybe' }, /ocsf.*one of on, off/],
    [{ MCPWATCH_SECURITYHUB: 'yes' }, /securityHub.*one of on, off/],
    [{ MCPWATCH_KINESIS_STREAM: 'bad name!' }, /kinesisStream/],
    [{ MCPWATCH_KINESIS_ENDPOINT: 'ftp://x' }, /kinesisEndpoint.*http/],
    [{ AWS_REGION: 'mars' }, /awsRegion.*not an AWS region/],
    [{ MCPWATCH_SINKS: 'kinesis', AWS_REGION: 'us-east-1' }, /kinesisStream.*MCPWATCH_KINESIS_STREAM/],
    [{ MCPWATCH_KINESIS_STREAM: 's' }, /awsRegion.*AWS_REGION/],
    [{ MCPWATCH_SINKS: 'file,s3' }, /sinks.*invalid list item/],
    [{ MCPWATCH_OUTBOX_LEASE_MS: '5000', MCPWATCH_SINK_SEND_DEADLINE_MS: '5000' }, /outboxLeaseMs.*longer than sinkSendDeadlineMs/],
    [{ MCPWATCH_OUTBOX_BATCH: '0' }, /outboxBatchSize/],
  ])('refuses %j with a message naming the key', (env, message) => {
    expect(() => loadConfig({ env: { ...base, ...env } })).toThrow(message);
    try {
      loadConfig({ env: { ...base, ...env } });
    } catch (e) {
      expect((e as { code: string }).code).toBe('MCPW_ERR_CONFIG');
    }
  });
});
