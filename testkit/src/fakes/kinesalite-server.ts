/**
 * Kinesalite (a Kinesis emulator from npm) started in-process on 127.0.0.1 for tests and benches,
 * with helpers to create a stream and read back every record of every shard in order.
 * Kinesalite never throttles and rejects records over 1 MiB and calls over 500 records.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const require = createRequire(import.meta.url);

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
export const TEST_REGION = 'us-east-1';

export interface ReadRecord {
  shardId: string;
  partitionKey: string;
  sequenceNumber: string;
  data: Buffer;
}

export class Kinesalite {
  private server: Server | undefined;
  port = 0;
  client!: KinesisClient;

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts on `port` (0 = any free port). */
  async start(port = 0): Promise<this> {
    const kinesalite = require('kinesalite') as (opts: Record<string, unknown>) => Server;
    this.server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.client = new KinesisClient({ region: TEST_REGION, endpoint: this.endpoint, credentials: TEST_CREDENTIALS, maxAttempts: 2, requestHandler: new NodeHttpHandler() });
    return this;
  }

  async stop(): Promise<void> {
    this.client?.destroy();
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async createStream(name: string, shards = 1): Promise<void> {
    await this.client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    for (let i = 0; i < 100; i++) {
      const d = await this.client.send(new DescribeStreamCommand({ StreamName: name }));
      if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`stream ${name} did not become ACTIVE`);
  }

  /** Every record of every shard, each shard's records in sequence order. */
  async readAll(name: string): Promise<ReadRecord[]> {
    const d = await this.client.send(new DescribeStreamCommand({ StreamName: name }));
    const out: ReadRecord[] = [];
    for (const shard of d.StreamDescription?.Shards ?? []) {
      let it = (await this.client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let guard = 0; it && guard < 100_000; guard++) {
        const r = await this.client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
        for (const rec of r.Records ?? []) {
          out.push({ shardId: shard.ShardId!, partitionKey: rec.PartitionKey!, sequenceNumber: rec.SequenceNumber!, data: Buffer.from(rec.Data!) });
        }
        if ((r.Records ?? []).length === 0) break;
        it = r.NextShardIterator;
      }
    }
    return out;
  }
}
