/**
 * Stands in, in the agent's bundle only, for the MCP SDK's validation/ajv-provider.js (see
 * bundle-cli.mjs). The SDK client constructs the Ajv-backed validator only when no
 * `jsonSchemaValidator` option is given; the agent's prober always gives one (it never calls a
 * tool, so it never validates a tool's output), so Ajv and ajv-formats need not load: about
 * 1.5-3 MB of heap in a long-running agent. A client built without the option fails loudly here
 * instead of validating nothing.
 */
export class AjvJsonSchemaValidator {
  constructor() {
    throw new Error('mcpwatch agent bundle: the MCP SDK client needs an explicit jsonSchemaValidator (Ajv is not bundled)');
  }
}
