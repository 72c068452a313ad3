/**
 * Injected into the agent's bundle (bundle-cli.mjs, esbuild `inject`): every bundled reference to
 * the global `Headers` (the MCP SDK's client transports and their eventsource dependency build one
 * per request) gets the prober's LiteHeaders instead. Node's global `Headers` is a lazy getter
 * over undici's bundle, which the first touch loads and keeps resident (src/probe/web-lite.ts).
 * Nothing outside the bundle is changed: the global itself is left alone.
 */
export { LiteHeaders as Headers } from '../dist/probe/web-lite.js';
