/**
 * A local fake of AWS Security Hub that speaks the service's REST-JSON protocol (the paths and
 * error shapes the AWS SDK v3 client uses), for tests of the Security Hub sink.
 *
 * It implements EnableSecurityHub (POST /accounts), DescribeHub (GET /accounts),
 * BatchImportFindings (POST /findings/import) and GetFindings (POST /findings; filters on Id,
 * RecordState, GeneratorId; pagination), and it ENFORCES what the real service documents:
 * - the caller's account (from the SigV4 access key, mapped by `accounts`) must have Security Hub
 *   enabled (else InvalidAccessException);
 * - <= 100 findings per call and <= 6 MB per request (else InvalidInputException for the call);
 * - per finding (reported in FailedFindings, the rest imported): the required ASFF fields
 *   (AwsAccountId, CreatedAt, Description, GeneratorId, Id, ProductArn, Resources, SchemaVersion,
 *   Severity, Title, Types, UpdatedAt), SchemaVersion 2018-10-08, <= 240 KB, Types in
 *   namespace/category/classifier form, a valid Severity.Label, ISO 8601 timestamps, string maxima,
 *   AwsAccountId == the calling account, ProductArn == that account's default product in the
 *   request's region;
 * - import is insert-or-update by (ProductArn, Id).
 * Faults can be injected: throttle the next N calls (429 ThrottlingException), fail the next N calls
 * with 500, fail chosen findings of the next call with a retryable error, and a server-side rate
 * limit of 10 calls/s with bursts of 30.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const REQUIRED_ASFF_FIELDS = [
  'AwsAccountId',
  'CreatedAt',
  'Description',
  'GeneratorId',
  'Id',
  'ProductArn',
  'Resources',
  'SchemaVersion',
  'Severity',
  'Title',
  'Types',
  'UpdatedAt',
] as const;

const TYPE_NAMESPACES = ['Software and Configuration Checks', 'TTPs', 'Effects', 'Unusual Behaviors', 'Sensitive Data Identifications'];
const LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_FINDING_BYTES = 240 * 1024;
const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export type StoredFinding = Record<string, unknown> & { Id: string; ProductArn: string; UpdatedAt: string; CreatedAt: string };

export interface SecurityHubFakeOptions {
  /** Access key id -> account id. Unknown keys are refused (UnrecognizedClientException). */
  accounts?: Record<string, string>;
  /** Accounts with Security Hub already enabled (default: every account in `accounts`). */
  enabled?: string[];
  /** Throttle like the real service: 10 calls/s, burst 30, per account. */
  rateLimit?: boolean;
}

export interface ImportCall {
  account: string;
  region: string;
  count: number;
  bytes: number;
  failed: number;
  at: number;
}

function validateFinding(f: Record<string, unknown>, account: string, region: string): string | null {
  for (const k of REQUIRED_ASFF_FIELDS) if (f[k] === undefined || f[k] === null || f[k] === '') return `Finding is missing required field ${k}`;
  if (f['SchemaVersion'] !== '2018-10-08') return `SchemaVersion must be 2018-10-08`;
  if (typeof f['Id'] !== 'string' || f['Id'].length > 512) return 'Id must be a string of at most 512 characters';
  if (typeof f['Title'] !== 'string' || f['Title'].length > 256) return 'Title must be at most 256 characters';
  if (typeof f['Description'] !== 'string' || f['Description'].length > 1024) return 'Description must be at most 1024 characters';
  if (typeof f['GeneratorId'] !== 'string' || f['GeneratorId'].length > 512) return 'GeneratorId must be at most 512 characters';
  for (const k of ['CreatedAt', 'UpdatedAt'] as const) if (typeof f[k] !== 'string' || !ISO.test(f[k] as string)) return `${k} must be an ISO 8601 timestamp`;
  const types = f['Types'];
  if (!Array.isArray(types) || types.length === 0 || types.length > 50) return 'Types must list 1 to 50 types';
  for (const t of types) {
    const parts = typeof t === 'string' ? t.split('/') : [];
    if (parts.length < 1 || parts.length > 3 || !TYPE_NAMESPACES.includes(parts[0]!)) return `Type "${String(t)}" is not namespace/category/classifier with a valid namespace`;
  }
  const sev = f['Severity'] as { Label?: string; Normalized?: number } | undefined;
  if (!sev || (sev.Label === undefined && sev.Normalized === undefined)) return 'Severity needs Label or Normalized';
  if (sev.Label !== undefined && !LABELS.includes(sev.Label)) return `Severity.Label "${sev.Label}" is not valid`;
  const res = f['Resources'];
  if (!Array.isArray(res) || res.length === 0 || res.length > 32) return 'Resources must list 1 to 32 resources';
  for (const r of res as Array<Record<string, unknown>>) {
    if (typeof r['Type'] !== 'string' || typeof r['Id'] !== 'string' || !r['Type'] || !r['Id']) return 'every Resource needs Type and Id';
    const other = (r['Details'] as { Other?: Record<string, unknown> } | undefined)?.Other;
    if (other) for (const [k, v] of Object.entries(other)) if (typeof v !== 'string' || k.length > 128 || v.length > 1024) return `Details.Other.${k} must be a string of at most 1024 characters`;
  }
  if (f['RecordState'] !== undefined && f['RecordState'] !== 'ACTIVE' && f['RecordState'] !== 'ARCHIVED') return 'RecordState must be ACTIVE or ARCHIVED';
  if (f['AwsAccountId'] !== account) return `AwsAccountId ${String(f['AwsAccountId'])} is not the calling account ${account}`;
  const expected = `arn:aws:securityhub:${region}:${account}:product/${account}/default`;
  if (f['ProductArn'] !== expected) return `ProductArn must be ${expected} for a default-product import`;
  if (Buffer.byteLength(JSON.stringify(f)) > MAX_FINDING_BYTES) return 'Finding is larger than 240 KB';
  return null;
}

export class SecurityHubFake {
  private server: Server | undefined;
  /** (ProductArn, Id) -> the finding as last imported. */
  readonly findings = new Map<string, StoredFinding>();
  /** How many times each finding key was imported (1 = created, more = updated). */
  readonly importsPerFinding = new Map<string, number>();
  /** Every finding imported, in order: its Id and RecordState (the state history of each finding). */
  readonly imported: Array<{ id: string; recordState: string }> = [];
  readonly calls: ImportCall[] = [];
  readonly enabledAccounts: Set<string>;
  private readonly accounts: Record<string, string>;
  private throttleNext = 0;
  private failNext = 0;
  private failFindingIds = new Set<string>();
  private buckets = new Map<string, { tokens: number; at: number }>();
  throttledCalls = 0;
  port = 0;

  constructor(private readonly opts: SecurityHubFakeOptions = {}) {
    this.accounts = opts.accounts ?? { AKIDTEST: '123456789012' };
    this.enabledAccounts = new Set(opts.enabled ?? Object.values(this.accounts));
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Throttles the next `n` calls (429 ThrottlingException). */
  injectThrottle(n: number): void {
    this.throttleNext += n;
  }

  /** Fails the next `n` calls with 500 InternalException. */
  injectServerErrors(n: number): void {
    this.failNext += n;
  }

  /** On their next import, these finding Ids come back in FailedFindings with InternalFailure. */
  injectFindingFailures(ids: string[]): void {
    for (const id of ids) this.failFindingIds.add(id);
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Findings stored for one id (any product). */
  get(id: string): StoredFinding | undefined {
    for (const f of this.findings.values()) if (f.Id === id) return f;
    return undefined;
  }

  private send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      ...(status === 429 ? { 'retry-after': '0' } : {}),
    });
    res.end(text);
  }

  private error(res: ServerResponse, status: number, type: string, message: string): void {
    this.send(res, status, { Code: type, Message: message, message }, type);
  }

  /** Caller account and signing region from the SigV4 Authorization header. */
  private caller(req: IncomingMessage): { account: string; region: string } | { error: string } {
    const auth = req.headers['authorization'] ?? '';
    const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/securityhub\/aws4_request/.exec(auth);
    if (!m) return { error: 'missing or malformed SigV4 Authorization for service securityhub' };
    const account = this.accounts[m[1]!];
    if (!account) return { error: `The security token included in the request is invalid (unknown access key ${m[1]})` };
    return { account, region: m[2]! };
  }

  private rateLimited(account: string): boolean {
    if (!this.opts.rateLimit) return false;
    const now = Date.now();
    const b = this.buckets.get(account) ?? { tokens: 30, at: now };
    b.tokens = Math.min(30, b.tokens + ((now - b.at) / 1000) * 10);
    b.at = now;
    this.buckets.set(account, b);
    if (b.tokens < 1) return true;
    b.tokens -= 1;
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size <= MAX_REQUEST_BYTES + 1) chunks.push(c as Buffer);
    }
    const path = (req.url ?? '/').split('?')[0];
    const who = this.caller(req);
    if ('error' in who) return this.error(res, 403, 'UnrecognizedClientException', who.error);
    let body: Record<string, unknown> = {};
    if (size > MAX_REQUEST_BYTES) return this.error(res, 413, 'InvalidInputException', 'Request is larger than 6 MB');
    if (size > 0) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.error(res, 400, 'InvalidInputException', 'Request body is not valid JSON');
      }
    }
    if (req.method === 'POST' && path === '/accounts') {
      this.enabledAccounts.add(who.account);
      return this.send(res, 200, {});
    }
    if (req.method === 'GET' && path === '/accounts') {
      if (!this.enabledAccounts.has(who.account)) return this.error(res, 401, 'InvalidAccessException', `Account ${who.account} is not subscribed to AWS Security Hub`);
      return this.send(res, 200, { HubArn: `arn:aws:securityhub:${who.region}:${who.account}:hub/default`, SubscribedAt: new Date(0).toISOString(), AutoEnableControls: true });
    }
    if (!this.enabledAccounts.has(who.account)) return this.error(res, 401, 'InvalidAccessException', `Account ${who.account} is not subscribed to AWS Security Hub`);
    if (req.method === 'POST' && path === '/findings/import') return this.importFindings(res, body, who.account, who.region, size);
    if (req.method === 'POST' && path === '/findings') return this.getFindings(res, body);
    return this.error(res, 404, 'ResourceNotFoundException', `no route for ${req.method} ${path}`);
  }

  private importFindings(res: ServerResponse, body: Record<string, unknown>, account: string, region: string, bytes: number): void {
    if (this.throttleNext > 0 || this.rateLimited(account)) {
      if (this.throttleNext > 0) this.throttleNext--;
      this.throttledCalls++;
      return this.error(res, 429, 'ThrottlingException', 'Rate exceeded');
    }
    if (this.failNext > 0) {
      this.failNext--;
      return this.error(res, 500, 'InternalException', 'Internal service error (injected)');
    }
    const list = body['Findings'];
    if (!Array.isArray(list) || list.length === 0) return this.error(res, 400, 'InvalidInputException', 'Findings must be a non-empty list');
    if (list.length > 100) return this.error(res, 400, 'InvalidInputException', `At most 100 findings per call; got ${list.length}`);
    const failed: Array<{ Id: string; ErrorCode: string; ErrorMessage: string }> = [];
    for (const raw of list as Array<Record<string, unknown>>) {
      const id = typeof raw['Id'] === 'string' ? raw['Id'] : '';
      if (this.failFindingIds.delete(id)) {
        failed.push({ Id: id, ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure (injected)' });
        continue;
      }
      const problem = validateFinding(raw, account, region);
      if (problem) {
        failed.push({ Id: id, ErrorCode: 'InvalidInput', ErrorMessage: problem });
        continue;
      }
      const f = raw as StoredFinding;
      const key = `${f.ProductArn}|${f.Id}`;
      this.findings.set(key, f);
      this.importsPerFinding.set(key, (this.importsPerFinding.get(key) ?? 0) + 1);
      this.imported.push({ id: f.Id, recordState: typeof f['RecordState'] === 'string' ? f['RecordState'] : 'ACTIVE' });
    }
    this.calls.push({ account, region, count: list.length, bytes, failed: failed.length, at: Date.now() });
    this.send(res, 200, { FailedCount: failed.length, SuccessCount: list.length - failed.length, FailedFindings: failed });
  }

  private getFindings(res: ServerResponse, body: Record<string, unknown>): void {
    const filters = (body['Filters'] ?? {}) as Record<string, Array<{ Value: string; Comparison?: string }> | undefined>;
    const match = (f: StoredFinding, field: string): boolean => {
      const conds = filters[field];
      if (!conds || conds.length === 0) return true;
      return conds.some((c) => String(f[field] ?? '') === c.Value);
    };
    const all = [...this.findings.values()].filter((f) => match(f, 'Id') && match(f, 'RecordState') && match(f, 'GeneratorId') && match(f, 'AwsAccountId'));
    const max = Math.min(100, Number(body['MaxResults'] ?? 100));
    const start = Number(body['NextToken'] ?? 0);
    const page = all.slice(start, start + max);
    this.send(res, 200, { Findings: page, ...(start + max < all.length ? { NextToken: String(start + max) } : {}) });
  }
}
