/**
 * Entry of the hook bundle of the single executable (loaded by sea-entry.mjs for `hook`, around
 * every MCP tool call): the hook entry's `main(argv)` (resolved by bundle-agent.mjs to
 * agent/dist/hook-cli.js), which runs only `hook`.
 */
export { main } from 'mcpwatch-agent-hook';
