/**
 * ASFF (AWS Security Finding Format) rendering of mcpwatch findings for Security Hub's
 * BatchImportFindings. Pure functions: no I/O.
 *
 * - SchemaVersion 2018-10-08; ProductArn `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`
 *   (the account's default product, so the import must be made by that account: AwsAccountId).
 * - Id `mcpwatch/ENDPOINT/RULE/FINDING` is stable per endpoint + rule + subject (the agent's
 *   finding id already hashes rule + subject), so a re-raise updates rather than duplicates.
 * - GeneratorId = rule id; Types from the rule; Severity.Label from the mcpwatch severity.
 * - Resources: one `Other` resource whose Id is the endpoint, Details.Other host/user/client/server.
 * - CreatedAt is the first raise (the caller keeps it, see FirstSeenMemory); UpdatedAt rises.
 * - RecordState ARCHIVED when the finding was resolved on the endpoint.
 * Strings are cut to ASFF's maxima (Title 256, Description 1024, Details.Other values 1024) so a
 * finding never exceeds the 240 KB limit; `measureAsff` gives the size Security Hub counts.
 */
import type { Finding } from '@mcpwatch/shared';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** Security Hub limits (BatchImportFindings guidelines). */
export const ASFF_LIMITS = { findingsPerCall: 100, bytesPerFinding: 240 * 1024, bytesPerCall: 6 * 1024 * 1024 } as const;
const MAX_TITLE = 256;
const MAX_DESCRIPTION = 1024;
const MAX_DETAIL = 1024;

export type AsffSeverityLabel = 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
export const ASFF_SEVERITY: Record<Finding['severity'], AsffSeverityLabel> = {
  info: 'INFORMATIONAL',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
};

/** The subset of the ASFF we produce (shape-compatible with the SDK's AwsSecurityFinding). */
export interface AsffFinding {
  SchemaVersion: string;
  Id: string;
  ProductArn: string;
  ProductName: string;
  CompanyName: string;
  GeneratorId: string;
  AwsAccountId: string;
  Region: string;
  Types: string[];
  CreatedAt: string;
  UpdatedAt: string;
  Severity: { Label: AsffSeverityLabel; Original: string };
  FindingProviderFields: { Severity: { Label: AsffSeverityLabel; Original: string }; Types: string[] };
  Title: string;
  Description: string;
  Resources: Array<{ Type: 'Other'; Id: string; Partition: string; Region: string; Details: { Other: Record<string, string> } }>;
  ProductFields: Record<string, string>;
  RecordState: 'ACTIVE' | 'ARCHIVED';
}

export interface AsffContext {
  accountId: string;
  region: string;
  endpointId: string;
  agentId: string;
  eventId: string;
  host?: string | null;
  user?: string | null;
  createdAt: string;
  updatedAt: string;
  resolved: boolean;
}

/** The account's default product ARN (findings a customer account imports about itself). */
export function productArn(region: string, accountId: string): string {
  return `arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** Stable ASFF Id for one finding on one endpoint. */
export function asffId(endpointId: string, f: Pick<Finding, 'id' | 'ruleId'>): string {
  return `mcpwatch/${endpointId}/${f.ruleId}/${f.id}`.slice(0, 512);
}

/** ASFF Types (namespace/category/classifier) for a finding. */
export function asffTypes(f: Finding): string[] {
  const classifier = f.ruleId.replace(/[^A-Za-z0-9._-]/g, '-');
  if (f.evidence?.kind) return [`Sensitive Data Identifications/Passwords/${classifier}`];
  return [`Software and Configuration Checks/Vulnerabilities/${classifier}`];
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function details(entries: Array<[string, string | null | undefined]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) if (v !== null && v !== undefined && v !== '') out[k] = cut(String(v), MAX_DETAIL);
  return out;
}

/** Renders one mcpwatch finding as an ASFF finding. */
export function toAsff(f: Finding, ctx: AsffContext): AsffFinding {
  const label = ASFF_SEVERITY[f.severity];
  const severity = { Label: label, Original: f.severity };
  const types = asffTypes(f);
  const where = [
    `Endpoint ${ctx.host ?? ctx.endpointId} (${ctx.endpointId})`,
    f.subject.client ? `client ${f.subject.client}` : null,
    f.subject.serverName ? `server ${f.subject.serverName}` : null,
    f.subject.configPath ? `config ${f.subject.configPath}` : null,
    f.evidence?.field ? `field ${f.evidence.field}${f.evidence.kind ? ` (${f.evidence.kind})` : ''}` : null,
  ]
    .filter(Boolean)
    .join('; ');
  const state = ctx.resolved ? ' Resolved on the endpoint.' : '';
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: asffId(ctx.endpointId, f),
    ProductArn: productArn(ctx.region, ctx.accountId),
    ProductName: 'mcpwatch',
    CompanyName: 'mcpwatch',
    GeneratorId: f.ruleId,
    AwsAccountId: ctx.accountId,
    Region: ctx.region,
    Types: types,
    CreatedAt: ctx.createdAt,
    UpdatedAt: ctx.updatedAt,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: types },
    Title: cut(f.title || f.ruleId, MAX_TITLE),
    Description: cut(`${f.description} — ${where}.${state}`, MAX_DESCRIPTION),
    Resources: [
      {
        Type: 'Other',
        Id: ctx.endpointId,
        Partition: ctx.region.startsWith('cn-') ? 'aws-cn' : ctx.region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws',
        Region: ctx.region,
        Details: {
          Other: details([
            ['host', ctx.host],
            ['user', ctx.user],
            ['client', f.subject.client],
            ['server', f.subject.serverName],
            ['serverKey', f.subject.serverKey],
            ['configPath', f.subject.configPath],
            ['pid', f.subject.pid == null ? null : String(f.subject.pid)],
          ]),
        },
      },
    ],
    ProductFields: details([
      ['mcpwatch/ruleId', f.ruleId],
      ['mcpwatch/findingId', f.id],
      ['mcpwatch/agentId', ctx.agentId],
      ['mcpwatch/eventId', ctx.eventId],
      ['mcpwatch/evidenceKind', f.evidence?.kind],
      ['mcpwatch/evidenceField', f.evidence?.field],
    ]),
    RecordState: ctx.resolved ? 'ARCHIVED' : 'ACTIVE',
  };
}

/** Bytes of a finding as Security Hub counts them (its JSON encoding). */
export function measureAsff(f: AsffFinding): number {
  return Buffer.byteLength(JSON.stringify(f));
}
