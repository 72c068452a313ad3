/**
 * Preloaded (`node --import`) into an agent child by tests: at exit, writes to stderr whether
 * Node's undici bundle was ever loaded in the process (its global fetch, Headers, Response, ...),
 * from process.moduleLoadList (the prober keeps undici out: src/probe/web-lite.ts), and whether
 * it ran without V8's JIT (no WebAssembly then: `run` relaunches with --jitless, launch.ts).
 */
process.once('exit', () => {
  const undici = process.moduleLoadList.some((m) => m.includes('undici'));
  process.stderr.write(`\nmcpwatch-test: undici loaded: ${undici}, jitless: ${typeof WebAssembly === 'undefined'}\n`);
});
