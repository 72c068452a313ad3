/**
 * @mcpwatch/test: end-to-end tests, the fleet simulator and benchmarks. The fakes and harnesses
 * live in @mcpwatch/testkit (imported by name); nothing here is imported by other packages.
 */
export {};
