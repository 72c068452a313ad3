/**
 * Groups items, in order, into batches of at most `maxItems` items and `maxBytes` bytes (an item
 * larger than maxBytes alone still gets its own batch: callers make items fit first).
 */
export function chunkBy<T>(items: T[], maxItems: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (cur.length > 0 && (cur.length >= maxItems || bytes + size > maxBytes)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(item);
    bytes += size;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}
