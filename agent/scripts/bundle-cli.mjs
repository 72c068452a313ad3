/**
 * Bundles the compiled CLI (dist/cli.js and what it imports from this repository, @mcpwatch/shared
 * included) into dist/bundle/ with esbuild: ESM, code-split so the commands' lazy imports stay
 * lazy, npm dependencies left external. Fewer, larger modules start faster than ~70 small ESM files
 * (`scan` start-up, measured next to ls-mcp). Writes dist/bundle/manifest.json naming every input
 * file with its size and mtime: the bin uses the bundle only while all of them are unchanged
 * (bin/mcpwatch-agent.js, runtime/cli-entry.ts), so a `tsc -b` without this step never runs stale
 * code. Run by the root `npm run build` after tsc. Exit 1 with the esbuild error on failure.
 */
import { statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(AGENT, 'dist', 'bundle');

/** npm packages stay external; this repository's workspaces are bundled. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@mcpwatch/') ? undefined : { path: args.path, external: true }));
  },
};

rmSync(OUT, { recursive: true, force: true });
try {
  const result = await build({
    entryPoints: [path.join(AGENT, 'dist', 'cli.js')],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: OUT,
    metafile: true,
    logLevel: 'error',
    plugins: [externalPackages],
  });
  const root = path.resolve(AGENT, '..');
  const inputs = Object.keys(result.metafile.inputs).map((rel) => {
    const file = path.resolve(process.cwd(), rel);
    const st = statSync(file);
    return { file: path.relative(OUT, file), size: st.size, mtimeMs: st.mtimeMs };
  });
  writeFileSync(path.join(OUT, 'manifest.json'), JSON.stringify({ entry: 'cli.js', inputs }));
  process.stdout.write(`agent: bundled ${inputs.length} modules into ${path.relative(root, OUT)}\n`);
} catch (error) {
  process.stderr.write(`agent: bundle-cli failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
