/** SHA256SUMS in the format `sha256sum -c` reads: "<hex>  <file name>" per line, sorted by name. */
import { createHash } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Streams a file through SHA-256 (executables are ~100 MB: never read whole). */
export function sha256File(file) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file).on('error', reject).on('data', (chunk) => hash.update(chunk)).on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * Writes `dir/SHA256SUMS` for `files` (all inside `dir`).
 * @param {string} dir
 * @param {string[]} files absolute paths
 * @returns {Promise<string>} the SHA256SUMS path
 */
export async function writeChecksums(dir, files) {
  const names = files.map((file) => path.relative(dir, file)).sort();
  const lines = [];
  for (const name of names) lines.push(`${await sha256File(path.join(dir, name))}  ${name}`);
  const out = path.join(dir, 'SHA256SUMS');
  writeFileSync(out, `${lines.join('\n')}\n`);
  return out;
}
