/**
 * File sink: the embedded default when AWS is not configured. Writes JSONL files of exactly what
 * would be published: `kinesis.jsonl` (one line per Kinesis record's data, JSON or OCSF as
 * configured) and `securityhub.jsonl` (one ASFF finding per line, rendered by the Security Hub
 * sink's own FindingRenderer from the same finding.raised / finding.resolved rows it takes, those
 * the store derives from snapshots included; a snapshot adds no finding of its own). Without AWS,
 * the ASFF account and region are placeholders unless configured.
 *
 * Contract: send() returns ok only after the lines were written and fdatasync'd. Files rotate by
 * size: past `maxFileBytes` the current file becomes NAME.1.jsonl (older ones shift up); at most
 * `maxFiles` rotated files are kept and the oldest is deleted (counted in `rotatedOut`). A line is
 * never split across files. Failures to write are retryable (disk full, permissions fixed later).
 */
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutboxRow } from '../store/types.js';
import { FindingRenderer, type FindingRendererOptions } from './securityhub-sink.js';
import { renderKinesisRecords, type RenderOptions } from './kinesis-records.js';
import { SinkErrors } from '../errors.js';
import { newCounters, once, type CountingSink, type SendResult } from './types.js';

/** Placeholder account for ASFF rendered without AWS configuration. */
export const PLACEHOLDER_ACCOUNT_ID = '000000000000';

export interface FileSinkOptions extends Omit<FindingRendererOptions, 'accountId' | 'region'> {
  dir: string;
  accountId?: string;
  region?: string;
  ocsf?: boolean;
  maxFileBytes?: number;
  maxFiles?: number;
  onOversize?: RenderOptions['onOversize'];
}

class RotatingFile {
  private fh: FileHandle | undefined;
  private size = 0;
  rotatedOut = 0;

  constructor(
    private readonly dir: string,
    private readonly base: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
  ) {}

  path(n = 0): string {
    return join(this.dir, n === 0 ? `${this.base}.jsonl` : `${this.base}.${n}.jsonl`);
  }

  private async openCurrent(): Promise<FileHandle> {
    if (!this.fh) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      this.fh = await open(this.path(), 'a', 0o600);
      this.size = (await this.fh.stat()).size;
    }
    return this.fh;
  }

  private async rotate(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
    const oldest = this.path(this.maxFiles);
    if (await stat(oldest).then(() => true, () => false)) {
      await rm(oldest);
      this.rotatedOut++;
    }
    for (let n = this.maxFiles - 1; n >= 0; n--) {
      await rename(this.path(n), this.path(n + 1)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
  }

  /** Appends lines (rotating between lines when the file would pass its limit) and syncs. */
  async append(lines: string[]): Promise<void> {
    let buf: string[] = [];
    let bufBytes = 0;
    const writeBuf = async () => {
      if (buf.length === 0) return;
      const fh = await this.openCurrent();
      await fh.write(buf.join(''));
      this.size += bufBytes;
      buf = [];
      bufBytes = 0;
    };
    for (const line of lines) {
      const l = `${line}\n`;
      const bytes = Buffer.byteLength(l);
      await this.openCurrent();
      if (this.size + bufBytes > 0 && this.size + bufBytes + bytes > this.maxBytes) {
        await writeBuf();
        if (this.size > 0) {
          await this.fh!.datasync();
          await this.rotate();
          await this.openCurrent();
        }
      }
      buf.push(l);
      bufBytes += bytes;
    }
    await writeBuf();
    if (this.fh) await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}

export class FileSink implements CountingSink {
  readonly name = 'file';
  readonly counters = newCounters();
  readonly shutdown: () => Promise<void>;
  readonly kinesisFile: RotatingFile;
  readonly securityHubFile: RotatingFile;
  private readonly renderer: FindingRenderer;

  constructor(private readonly opts: FileSinkOptions) {
    const maxBytes = opts.maxFileBytes ?? 64 * 1024 * 1024;
    const maxFiles = opts.maxFiles ?? 5;
    this.kinesisFile = new RotatingFile(opts.dir, 'kinesis', maxBytes, maxFiles);
    this.securityHubFile = new RotatingFile(opts.dir, 'securityhub', maxBytes, maxFiles);
    this.renderer = new FindingRenderer({ ...opts, accountId: opts.accountId ?? PLACEHOLDER_ACCOUNT_ID, region: opts.region ?? 'us-east-1' });
    this.shutdown = once(async () => {
      await this.flush();
      await this.kinesisFile.close();
      await this.securityHubFile.close();
    });
  }

  /** Rotated files deleted because more than maxFiles were kept. */
  get rotatedOut(): number {
    return this.kinesisFile.rotatedOut + this.securityHubFile.rotatedOut;
  }

  async flush(): Promise<void> {
    await this.opts.memory.save();
  }

  async send(rows: OutboxRow[]): Promise<SendResult> {
    try {
      const render: RenderOptions = { ocsf: this.opts.ocsf ?? false };
      if (this.opts.onOversize) render.onOversize = this.opts.onOversize;
      const records = rows.flatMap((r) => renderKinesisRecords(r, render, this.counters));
      const findings = await this.renderer.render(rows, this.counters);
      await this.kinesisFile.append(records.map((r) => r.data.toString('utf8')));
      await this.securityHubFile.append(findings.map((f) => JSON.stringify(f.asff)));
      await this.opts.memory.save();
      this.counters.sent += records.length + findings.length;
      return { ok: true };
    } catch (e) {
      return { ok: false, retryable: true, retryAfterMs: 1000, error: SinkErrors.unavailable(`file sink could not write under ${this.opts.dir}: ${(e as Error).message}`, { cause: e }) };
    }
  }
}
