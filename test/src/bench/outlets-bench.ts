/**
 * `npm run bench:outlets`: what the durable outbox costs on the way to Kinesis.
 *
 * In the same run, against the same kinesalite (Kinesis emulator on 127.0.0.1), with the same
 * records (the Kinesis sink's rendering of BENCH_EVENTS events, default 20,000, from BENCH_AGENTS
 * endpoints, default 20):
 *  - raw: PutRecords of the pre-rendered records in calls of 500, one after the other (the floor:
 *    no store, no leases);
 *  - outbox: the events ingested into the SQLite store (ONE transaction per 100-event batch,
 *    outbox rows enqueued; not timed), then timed: one OutboxDrainer + KinesisSink claiming 500
 *    rows, sending and completing them until the outbox is empty.
 * Each is run BENCH_RUNS times (default 5), alternating; medians of records/s and the ratio
 * outbox / raw are printed. Every run checks all records arrived (count read back per stream).
 */
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  createKinesisClient,
  createStore,
  KinesisSink,
  newCounters,
  OutboxDrainer,
  renderKinesisRecords,
  chunkRecords,
  type OutboxRow,
  type Store,
} from '@mcpwatch/collector';
import { sha256Hex, type McpEvent } from '@mcpwatch/shared';
import { Kinesalite, TEST_CREDENTIALS, TEST_REGION } from '@mcpwatch/testkit';
import { makeEvents, makeHost } from '@mcpwatch/testkit';
import { envInt, formatRows, median, type BenchRow } from './bench-stats.js';

const EVENTS = envInt('BENCH_EVENTS', 20_000);
const AGENTS = envInt('BENCH_AGENTS', 20);
const RUNS = envInt('BENCH_RUNS', 5);
const BATCH = 100;

interface Fleet {
  agentId: string;
  endpointId: string;
  certFingerprint: string;
  batches: McpEvent[][];
}

async function enrollFleet(store: Store): Promise<Fleet[]> {
  const fleet: Fleet[] = [];
  const perAgent = Math.ceil(EVENTS / AGENTS);
  for (let a = 0; a < AGENTS; a++) {
    const agentId = randomUUID();
    const certFingerprint = sha256Hex(agentId);
    const out = await store.enrollAgent({
      agentId,
      host: makeHost({ hostname: `bench-${a}`, hardwareUuid: randomUUID() }),
      certFingerprint,
      publicKeyPem: '-----BEGIN PUBLIC KEY-----\nbench\n-----END PUBLIC KEY-----\n',
      certNotAfter: '2030-01-01T00:00:00.000Z',
      enrollSecretName: 'bench',
      agentVersion: '0.1.0',
    });
    const events = makeEvents(out.endpointId, perAgent);
    const batches: McpEvent[][] = [];
    for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    fleet.push({ agentId: out.agentId, endpointId: out.endpointId, certFingerprint, batches });
  }
  return fleet;
}

async function ingest(store: Store, fleet: Fleet[]): Promise<number> {
  let n = 0;
  for (const f of fleet) {
    const agent = (await store.getAgent(f.agentId))!;
    let prevHash = '';
    for (const [i, events] of f.batches.entries()) {
      const bodyHash = sha256Hex(`${f.agentId}:${i}:${events[0]!.id}`);
      const now = new Date().toISOString();
      const body = gzipSync(JSON.stringify({ agentId: f.agentId, seq: i + 1, prevHash, sentAt: now, events }));
      const r = await store.ingestBatch({ agent, seq: i + 1, prevHash, bodyHash, sentAt: now, receivedAt: now, events, body, signature: 'bench-unsigned', signedAtMs: Date.now(), sinks: ['kinesis'] });
      if (r.status !== 'accepted') throw new Error(`ingest refused batch ${i + 1}: ${r.status}`);
      prevHash = bodyHash;
      n += events.length;
    }
  }
  // The outbox is a projection of the batch log: wait until it is built.
  await (store as Store & { awaitProjection(): Promise<void> }).awaitProjection();
  return n;
}

/** The rows the store would hand the drainer, for rendering the raw baseline's identical records. */
function rowsOf(fleet: Fleet[]): OutboxRow[] {
  return fleet.flatMap((f) =>
    f.batches.flatMap((events, i) =>
      events.map((event) => ({ id: `${event.id}:kinesis`, sink: 'kinesis', endpointId: f.endpointId, agentId: f.agentId, batchSeq: i + 1, certFingerprint: f.certFingerprint, event, attempts: 0, createdAt: '' })),
    ),
  );
}

async function main(): Promise<void> {
  const k = await new Kinesalite().start();
  const client = createKinesisClient({ region: TEST_REGION, endpoint: k.endpoint, credentials: TEST_CREDENTIALS });
  const raw: number[] = [];
  const outbox: number[] = [];
  const storeShare: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'mcpw-bench-outlets-'));
      const store = await createStore({ dataDir });
      try {
        const fleet = await enrollFleet(store);
        const total = await ingest(store, fleet);

        const rawStream = `raw-${run}`;
        const outStream = `outbox-${run}`;
        await k.createStream(rawStream, 2);
        await k.createStream(outStream, 2);
        const records = rowsOf(fleet).flatMap((r) => renderKinesisRecords(r, { ocsf: false }, newCounters()));

        // raw PutRecords of the same records
        const runRaw = async () => {
          const t = performance.now();
          for (const chunk of chunkRecords(records)) {
            const cmd = new PutRecordsCommand({ StreamName: rawStream, Records: chunk.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })) });
            // A keep-alive socket the emulator closed while idle fails once (ECONNRESET): resend.
            const out = await client.send(cmd).catch(() => client.send(cmd));
            if (out.FailedRecordCount) throw new Error(`raw PutRecords: ${out.FailedRecordCount} failed`);
          }
          raw.push(records.length / ((performance.now() - t) / 1000));
        };
        // outbox -> drainer -> Kinesis sink
        let sent = 0;
        const runOutbox = async () => {
          const sink = new KinesisSink({ streamName: outStream, client: { send: (c) => client.send(c) } });
          // The store calls the drainer makes, timed, to show the outbox's own share.
          let storeMs = 0;
          const timed = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
            const t0 = performance.now();
            try {
              return await f(...a);
            } finally {
              storeMs += performance.now() - t0;
            }
          };
          const timedStore = {
            claimOutbox: timed(store.claimOutbox.bind(store)),
            completeOutbox: timed(store.completeOutbox.bind(store)),
            releaseOutbox: timed(store.releaseOutbox.bind(store)),
          };
          const drainer = new OutboxDrainer({ store: timedStore, sink, owner: 'bench', batchSize: 500 });
          const t = performance.now();
          for (let r = await drainer.drainOnce(); r.claimed > 0; r = await drainer.drainOnce()) {
            if (r.released > 0) throw new Error(`outbox run: ${r.released} rows released`);
            sent += r.completed;
          }
          const elapsed = performance.now() - t;
          outbox.push(sent / (elapsed / 1000));
          storeShare.push(storeMs / elapsed);
        };
        // Alternate which goes first, so warm-up favours neither.
        if (run % 2 === 0) {
          await runRaw();
          await runOutbox();
        } else {
          await runOutbox();
          await runRaw();
        }
        if (sent !== total) throw new Error(`outbox run sent ${sent} of ${total}`);
        for (const s of [rawStream, outStream]) {
          const n = (await k.readAll(s)).length;
          if (n !== records.length) throw new Error(`${s}: ${n} records read back, expected ${records.length}`);
        }
        process.stderr.write(`run ${run + 1}/${RUNS}: raw ${raw.at(-1)!.toFixed(0)} rec/s, outbox ${outbox.at(-1)!.toFixed(0)} rec/s\n`);
      } finally {
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    client.destroy();
    await k.stop();
  }
  const rawMed = median(raw);
  const outMed = median(outbox);
  const rows: BenchRow[] = [
    { what: 'raw PutRecords -> kinesalite', value: `${rawMed.toFixed(0)} records/s`, note: `median of ${RUNS}; ${EVENTS} records, 500 per call` },
    { what: 'outbox (SQLite) -> drainer -> kinesalite', value: `${outMed.toFixed(0)} records/s`, note: `median of ${RUNS}; claim/lease 500, send, complete` },
    { what: 'ratio outbox / raw', value: (outMed / rawMed).toFixed(2), note: 'what the durable outbox costs' },
    { what: 'store share of the outbox run', value: `${(median(storeShare) * 100).toFixed(1)} %`, note: 'claim (lease) + complete time / total; the rest is rendering and PutRecords' },
  ];
  console.log(formatRows(`bench:outlets (node ${process.version}, ${AGENTS} endpoints)`, rows));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
