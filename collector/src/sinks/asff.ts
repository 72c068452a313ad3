/**
 * ASFF (AWS Security Finding Format) rendering of mcpwatch findings, and of the collector's own
 * tamper/gap events, for Security Hub's BatchImportFindings. Pure functions: no I/O.
 *
 * - SchemaVersion 2018-10-08; ProductArn `arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default`
 *   (the account's default product, so the import must be made by that account: AwsAccountId).
 * - Id `mcpwatch/ENDPOINT/RULE/FINDING` is stable per endpoint + rule + subject (the agent's
 *   finding id already hashes rule + subject), so a re-raise updates rather than duplicates.
 * - GeneratorId = rule id; Types from the rule; Severity.Label from the mcpwatch severity.
 * - Resources: one `Other` resource whose Id is the endpoint, Details.Other host/user/client/server.
 * - CreatedAt is the first raise (the caller keeps it, see FirstSeenMemory); UpdatedAt rises.
 * - RecordState ARCHIVED when the finding was resolved on the endpoint.
 * - A collector event (`collector.seq_gap` MEDIUM, `collector.chain_broken` HIGH) becomes a finding
 *   with Id `mcpwatch/ENDPOINT/TYPE/SEQ` (stable per endpoint + kind + seq), GeneratorId = the type,
 *   Types `Unusual Behaviors/Application/...`: an anomaly in the agent's batch stream. (Not
 *   `Effects/Data Exposure`: a gap or a broken chain shows missing or altered telemetry, not data
 *   disclosed to someone.) Always ACTIVE: nothing on the endpoint resolves it.
 * Strings are cut to ASFF's maxima (Title 256, Description 1024, Details.Other values 1024) so a
 * finding never exceeds the 240 KB limit; `measureAsff` gives the size Security Hub counts.
 */
import type { Finding } from '@mcpwatch/shared';
import type { CollectorEvent } from '../store/types.js';
import { collectorFindingKey, collectorFindingText } from './collector-findings.js';

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

/** The context of a collector event's finding: never resolved, no OS user. */
export type CollectorAsffContext = Omit<AsffContext, 'resolved' | 'user'>;

/** The account's default product ARN (findings a customer account imports about itself). */
export function productArn(region: string, accountId: string): string {
  return `arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** Stable ASFF Id for one finding on one endpoint. */
export function asffId(endpointId: string, f: Pick<Finding, 'id' | 'ruleId'>): string {
  return `mcpwatch/${endpointId}/${f.ruleId}/${f.id}`.slice(0, 512);
}

/** Stable ASFF Id for one collector event kind at one seq on one endpoint. */
export function collectorAsffId(endpointId: string, e: CollectorEvent): string {
  return `mcpwatch/${collectorFindingKey(endpointId, e)}`.slice(0, 512);
}

/** ASFF Types for a collector event: an unusual behaviour of the agent's batch stream. */
export function collectorAsffTypes(e: CollectorEvent): string[] {
  return [`Unusual Behaviors/Application/${e.type === 'collector.seq_gap' ? 'BatchSequenceGap' : 'BatchHashChainBroken'}`];
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

/** What differs between kinds of finding; the rest of the ASFF comes from the context. */
interface AsffParts {
  id: string;
  generatorId: string;
  severity: Finding['severity'];
  types: string[];
  title: string;
  description: string;
  details: Array<[string, string | null | undefined]>;
  productFields: Array<[string, string | null | undefined]>;
  resolved: boolean;
}

function partition(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

function assemble(p: AsffParts, ctx: Omit<AsffContext, 'resolved'>): AsffFinding {
  const severity = { Label: ASFF_SEVERITY[p.severity], Original: p.severity };
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: p.id,
    ProductArn: productArn(ctx.region, ctx.accountId),
    ProductName: 'mcpwatch',
    CompanyName: 'mcpwatch',
    GeneratorId: p.generatorId,
    AwsAccountId: ctx.accountId,
    Region: ctx.region,
    Types: p.types,
    CreatedAt: ctx.createdAt,
    UpdatedAt: ctx.updatedAt,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: p.types },
    Title: cut(p.title, MAX_TITLE),
    Description: cut(p.description, MAX_DESCRIPTION),
    Resources: [{ Type: 'Other', Id: ctx.endpointId, Partition: partition(ctx.region), Region: ctx.region, Details: { Other: details(p.details) } }],
    ProductFields: details(p.productFields),
    RecordState: p.resolved ? 'ARCHIVED' : 'ACTIVE',
  };
}

/** Renders one mcpwatch finding as an ASFF finding. */
export function toAsff(f: Finding, ctx: AsffContext): AsffFinding {
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
  return assemble(
    {
      id: asffId(ctx.endpointId, f),
      generatorId: f.ruleId,
      severity: f.severity,
      types: asffTypes(f),
      title: f.title || f.ruleId,
      description: `${f.description} — ${where}.${state}`,
      details: [
        ['host', ctx.host],
        ['user', ctx.user],
        ['client', f.subject.client],
        ['server', f.subject.serverName],
        ['serverKey', f.subject.serverKey],
        ['configPath', f.subject.configPath],
        ['pid', f.subject.pid == null ? null : String(f.subject.pid)],
      ],
      productFields: [
        ['mcpwatch/ruleId', f.ruleId],
        ['mcpwatch/findingId', f.id],
        ['mcpwatch/agentId', ctx.agentId],
        ['mcpwatch/eventId', ctx.eventId],
        ['mcpwatch/evidenceKind', f.evidence?.kind],
        ['mcpwatch/evidenceField', f.evidence?.field],
      ],
      resolved: ctx.resolved,
    },
    ctx,
  );
}

/** Renders a collector tamper/gap event (seq gap, broken hash chain) as an ASFF finding about the endpoint. */
export function collectorEventAsff(e: CollectorEvent, ctx: CollectorAsffContext): AsffFinding {
  const t = collectorFindingText(e);
  const { agentId, seq, expectedSeq, expectedPrevHash, prevHash } = e.data;
  return assemble(
    {
      id: collectorAsffId(ctx.endpointId, e),
      generatorId: e.type,
      severity: t.severity,
      types: collectorAsffTypes(e),
      title: t.title,
      description: `${t.description} — Endpoint ${ctx.host ?? ctx.endpointId} (${ctx.endpointId}).`,
      details: [
        ['host', ctx.host],
        ['agentId', agentId],
        ['seq', String(seq)],
      ],
      productFields: [
        ['mcpwatch/eventType', e.type],
        ['mcpwatch/agentId', agentId],
        ['mcpwatch/eventId', ctx.eventId],
        ['mcpwatch/seq', String(seq)],
        ['mcpwatch/expectedSeq', expectedSeq === undefined ? null : String(expectedSeq)],
        ['mcpwatch/expectedPrevHash', expectedPrevHash],
        ['mcpwatch/prevHash', prevHash],
      ],
      resolved: false,
    },
    ctx,
  );
}

/** Bytes of a finding as Security Hub counts them (its JSON encoding). */
export function measureAsff(f: AsffFinding): number {
  return Buffer.byteLength(JSON.stringify(f));
}
