import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { boundedGunzip, gunzipChunkSize } from '../../src/routes/batches.js';

/** `body` with its gzip trailer's size field (ISIZE) replaced. */
function withIsize(body: Buffer, isize: number): Buffer {
  const copy = Buffer.from(body);
  copy.writeUInt32LE(isize >>> 0, copy.length - 4);
  return copy;
}

describe('boundedGunzip', () => {
  const MAX = 1024 * 1024;

  test('inflates exactly, at sizes around the output chunk and past the sync threshold', async () => {
    for (const n of [0, 1, 100, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 43_084, 64 * 1024, 200_000, MAX]) {
      // Half random (incompressible: bodies over 64 KiB take the async path), half repeated text.
      const plain = Buffer.concat([randomBytes(Math.floor(n / 2)), Buffer.alloc(n - Math.floor(n / 2), 'abc')]);
      const out = await boundedGunzip(gzipSync(plain), MAX);
      expect(out.equals(plain)).toBe(true);
    }
  });

  /** What inflating with zlib's default 16 KiB chunks gives: the bytes, or the error class. */
  const reference = (body: Buffer, max: number): Buffer | 'too large' | 'malformed' => {
    try {
      return gunzipSync(body, { maxOutputLength: max });
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError ? 'too large' : 'malformed';
    }
  };
  const outcome = async (body: Buffer, max: number): Promise<Buffer | 'too large' | 'malformed'> => {
    try {
      return await boundedGunzip(body, max);
    } catch (e) {
      const code = (e as { code?: string }).code;
      return code === 'MCPW_ERR_TOO_LARGE' ? 'too large' : code === 'MCPW_ERR_MALFORMED' ? 'malformed' : (code as never);
    }
  };

  test('the trailer only sizes the first buffer: whatever it says, the outcome is what default chunks give', async () => {
    const plain = Buffer.from(JSON.stringify({ events: Array.from({ length: 500 }, (_, i) => ({ i, s: `event ${i}` })) }));
    const gz = gzipSync(plain);
    const bomb = gzipSync(Buffer.alloc(MAX + 1));
    for (const body of [gz, bomb]) {
      for (const isize of [0, 1, 16, plain.length - 1, plain.length, plain.length + 1, MAX, MAX + 1, 0xffffffff]) {
        const lying = withIsize(body, isize);
        const want = reference(lying, MAX);
        const got = await outcome(lying, MAX);
        if (Buffer.isBuffer(want)) expect(Buffer.isBuffer(got) && got.equals(want)).toBe(true);
        else expect([isize, got]).toEqual([isize, want]);
      }
    }
    // A true trailer: the body inflates; a bomb is too large.
    expect(await outcome(gz, MAX)).toEqual(plain);
    expect(await outcome(bomb, MAX)).toBe('too large');
    // The first buffer never exceeds what the body can inflate to, the limit or 4 MiB, nor goes under 16 KiB.
    expect(gunzipChunkSize(withIsize(gz, 0xffffffff), 1 << 30)).toBe(Math.min(gz.length * 1032 + 64, 4 * 1024 * 1024));
    expect(gunzipChunkSize(withIsize(gzipSync(Buffer.alloc(8 << 20)), 0xffffffff), 1 << 30)).toBe(4 * 1024 * 1024);
    expect(gunzipChunkSize(withIsize(gz, 0xffffffff), 20_000)).toBe(20_064);
    expect(gunzipChunkSize(withIsize(gz, 10), MAX)).toBe(16 * 1024);
    expect(gunzipChunkSize(Buffer.alloc(5), MAX)).toBe(16 * 1024);
    expect(gunzipChunkSize(gz, MAX)).toBe(Math.max(16 * 1024, plain.length + 64));
  });

  test('corrupt and truncated data are malformed', async () => {
    expect(await outcome(Buffer.from('not gzip at all, not at all'), MAX)).toBe('malformed');
    expect(await outcome(gzipSync(Buffer.alloc(50_000, 'x')).subarray(0, 30), MAX)).toBe('malformed');
    const big = gzipSync(randomBytes(100_000));
    expect(await outcome(big.subarray(0, big.length - 10), MAX)).toBe('malformed');
  });
});
