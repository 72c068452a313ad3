/**
 * Entry of the agent bundle of the single executable (loaded by sea-entry.mjs for every command but
 * `--version` and `hook`): the agent CLI's `main(argv)` (resolved by bundle-agent.mjs to
 * agent/dist/cli.js), and the config table, which the hook bundle asks for when it runs without a
 * state dir (resolved to agent/dist/config/config-table.js).
 */
export { main } from 'mcpwatch-agent-cli';
export * as configTable from 'mcpwatch-agent-config-table';
