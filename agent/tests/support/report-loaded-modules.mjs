/**
 * Preloaded (`node --import`) into an agent child by tests: at exit, writes to stderr whether
 * Node's undici bundle was ever loaded in the process (its global fetch, Headers, Response, ...),
 * from process.moduleLoadList. The prober keeps undici out (src/probe/web-lite.ts).
 */
process.once('exit', () => {
  const undici = process.moduleLoadList.some((m) => m.includes('undici'));
  process.stderr.write(`\nmcpwatch-test: undici loaded: ${undici}\n`);
});
