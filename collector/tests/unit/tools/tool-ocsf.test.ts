import type { McpListenerRecord, ToolRecord } from '@mcpwatch/shared';
import { toOcsf } from '../../../src/sinks/ocsf.js';
import { outboxRow } from '../../support/outbox-fixtures.js';

const tool: ToolRecord = {
  serverId: 'fp-gh', serverKey: null, serverName: 'github', serverVersion: '1.0.0', source: 'probe', name: 'create_issue', title: null,
  descriptionSha256: 'a'.repeat(64), inputSchemaSha256: null, annotationsSha256: null, annotations: { readOnlyHint: false }, instructionsSha256: null, capabilities: [],
};
const listener: McpListenerRecord = {
  serverId: 'listener:0.0.0.0:7000', port: 7000, bind: '0.0.0.0', allInterfaces: true, pid: 42, user: 'alice', processName: 'node', serverKey: null,
  configured: false, transport: 'streamable-http', path: '/mcp', serverName: 'facts', serverVersion: '2.0.0', protocolVersion: '2025-06-18', authRequired: false,
};

describe('OCSF rendering of tool events', () => {
  it('carries tool and listener records as they were sent, with a readable message', () => {
    const [t] = toOcsf(outboxRow('kinesis', 'tool.added', tool));
    expect(t!.message).toBe('MCP tool create_issue of github: tool.added');
    expect((t!.unmapped as { mcpwatch: Record<string, unknown> }).mcpwatch.tool).toEqual(tool);
    const [l] = toOcsf(outboxRow('kinesis', 'mcp-listener.added', listener));
    expect(l!.message).toBe('MCP server listening on 0.0.0.0:7000: mcp-listener.added');
    expect((l!.unmapped as { mcpwatch: Record<string, unknown> }).mcpwatch.listener).toEqual(listener);
  });
});
