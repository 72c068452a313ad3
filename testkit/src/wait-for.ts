/**
 * Waiting on a condition instead of a fixed sleep: polls `cond` until it returns something other
 * than undefined / false / null, and resolves to that value; throws naming `what` after `timeoutMs`
 * (generous by default: a loaded 2-core machine can take tens of seconds to start a collector).
 */
export async function waitFor<T>(
  what: string,
  cond: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
