/**
 * `await store.close()` settles in a process with nothing else to do. A plain ESM script (a child
 * `node` process, not jest: jest's own handles would keep the process alive and hide the bug)
 * opens a SQLite store from the built package (dist/index.js), closes it and prints `closed`.
 * When close() waited on something unref'd (the SQLite checkpoint worker), the event loop emptied
 * first: the script's top-level await never settled and node exited with code 13, printing nothing.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const SCRIPT = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { createStore } = await import(process.argv[2]);
const store = await createStore({ dataDir: mkdtempSync(join(tmpdir(), 'mcpw-bare-close-data-')) });
await store.close();
console.log('closed');
`;

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('store.close() in a bare process', () => {
  test('a script that creates a SQLite store and awaits close() exits 0 after printing closed', async () => {
    if (!existsSync(DIST_INDEX)) throw new Error(`${DIST_INDEX} is missing: build the collector first (npm run build)`);
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-bare-close-'));
    const script = join(dir, 'close-store.mjs');
    writeFileSync(script, SCRIPT);

    const res = await runNode([script, pathToFileURL(DIST_INDEX).href]);

    // stderr is compared only on failure, to show why (a Node warning alone must not fail the test)
    expect({ code: res.code, stdout: res.stdout.trim(), stderr: res.code === 0 ? '' : res.stderr }).toEqual({ code: 0, stdout: 'closed', stderr: '' });
  });
});
