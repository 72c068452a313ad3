/**
 * Bundles the compiled CLI (dist/cli.js and what it imports from this repository, @mcpwatch/shared
 * included) into dist/bundle/ with esbuild: ESM, code-split so the commands' lazy imports stay
 * lazy, npm dependencies left external. Fewer, larger modules start faster than ~70 small ESM files
 * (`scan` start-up, measured next to ls-mcp). Writes dist/bundle/manifest.json naming every input
 * file with its size and mtime: the bin uses the bundle only while all of them are unchanged
 * (bin/mcpwatch-agent.js, runtime/cli-entry.ts), so a `tsc -b` without this step never runs stale
 * code. Run by the root `npm run build` after tsc. Exit 1 with the esbuild error on failure.
 *
 * Second, the hook entry (dist/hook-cli.js, what `mcpwatch-agent hook` runs around every MCP tool
 * call) into ONE file, dist/bundle-hook/hook-cli.js, with its own manifest by the same rule: one
 * module to load instead of the CLI's entry, its chunks and the launcher's check of every CLI input.
 * The config table it imports lazily (only without --state-dir) stays outside, loaded from the
 * compiled dist/config/config-table.js, so the platform layer and systeminformation stay off the path.
 */
import { statSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const AGENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(AGENT, 'dist', 'bundle');

/**
 * npm packages stay external, but for the MCP SDK: the tool prober's lazy import of its client
 * pulls in ~400 small ESM/CJS modules (zod v3 and v4, ajv, ajv-formats, eventsource), and as
 * separate modules they cost the long-running agent ~22-30 MB RSS and ~220 ms to load; bundled
 * into one chunk ~12 MB and ~55 ms (measured: import of the three client modules, node 20, after
 * GC). So `@modelcontextprotocol/sdk/*` and everything it imports (importer inside node_modules)
 * are bundled; this repository's workspaces are bundled; every other package stays external.
 */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@mcpwatch/') || args.path.startsWith('@modelcontextprotocol/sdk/')) return undefined;
      if (args.importer.includes(`${path.sep}node_modules${path.sep}`) && !args.path.startsWith('node:')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/** The SDK's Ajv provider, left out of the bundle: see sdk-ajv-provider-stub.mjs. */
const AJV_PROVIDER_STUB = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sdk-ajv-provider-stub.mjs');
const sdkWithoutAjv = {
  name: 'sdk-without-ajv',
  setup(b) {
    b.onResolve({ filter: /[\\/]validation[\\/]ajv-provider\.js$/ }, (args) => {
      if (!args.importer.includes(`${path.sep}@modelcontextprotocol${path.sep}sdk${path.sep}`)) return undefined;
      return { path: AJV_PROVIDER_STUB };
    });
  },
};

/** Global `Headers` in bundled code → the prober's LiteHeaders: see sdk-web-lite-inject.mjs. */
const WEB_LITE_INJECT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'sdk-web-lite-inject.mjs');

/**
 * CommonJS dependencies bundled into ESM (ajv) call `require` for what they need; esbuild's shim
 * throws for any `require` it did not resolve, so each chunk gets a real one.
 */
const REQUIRE_BANNER = "import { createRequire as __mcpwCreateRequire } from 'node:module'; const require = __mcpwCreateRequire(import.meta.url);";

/** The package folder (node_modules/<name> or node_modules/@scope/<name>) holding `file`, or null. */
function packageRoot(file) {
  const m = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(file);
  return m ? m[1] : null;
}

/**
 * Writes `<outDir>/manifest.json`: the entry and every input file with its size and mtime; for a
 * bundled npm package, its package.json stands for its files (npm rewrites it on every install),
 * so the launcher's freshness check stays a few dozen stats.
 */
function writeManifest(outDir, entry, metafile) {
  const files = new Set();
  for (const rel of Object.keys(metafile.inputs)) {
    const file = path.resolve(process.cwd(), rel);
    const pkg = packageRoot(file);
    files.add(pkg ? path.join(pkg, 'package.json') : file);
  }
  const inputs = [...files].map((file) => {
    const st = statSync(file);
    return { file: path.relative(outDir, file), size: st.size, mtimeMs: st.mtimeMs };
  });
  writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({ entry, inputs }));
  return inputs.length;
}

const HOOK_OUT = path.join(AGENT, 'dist', 'bundle-hook');
const CONFIG_TABLE = path.join(AGENT, 'dist', 'config', 'config-table.js');

/** The hook bundle leaves the config table (and all it imports) to the compiled files, lazily. */
const configTableOutside = {
  name: 'config-table-outside',
  setup(b) {
    b.onResolve({ filter: /config-table\.js$/ }, (args) => {
      if (path.resolve(args.resolveDir, args.path) !== CONFIG_TABLE) return undefined;
      return { path: path.relative(HOOK_OUT, CONFIG_TABLE).split(path.sep).join('/').replace(/^(?!\.)/, './'), external: true };
    });
  },
};

const root = path.resolve(AGENT, '..');
rmSync(OUT, { recursive: true, force: true });
rmSync(HOOK_OUT, { recursive: true, force: true });
try {
  const common = { bundle: true, format: 'esm', platform: 'node', target: 'node20', metafile: true, logLevel: 'error' };
  const cli = await build({ ...common, entryPoints: [path.join(AGENT, 'dist', 'cli.js')], splitting: true, outdir: OUT, inject: [WEB_LITE_INJECT], plugins: [sdkWithoutAjv, externalPackages], banner: { js: REQUIRE_BANNER } });
  const cliInputs = writeManifest(OUT, 'cli.js', cli.metafile);
  const hook = await build({ ...common, entryPoints: [path.join(AGENT, 'dist', 'hook-cli.js')], outdir: HOOK_OUT, plugins: [configTableOutside, externalPackages] });
  const hookInputs = writeManifest(HOOK_OUT, 'hook-cli.js', hook.metafile);
  process.stdout.write(`agent: bundled ${cliInputs} modules into ${path.relative(root, OUT)}, ${hookInputs} into ${path.relative(root, HOOK_OUT)}\n`);
} catch (error) {
  process.stderr.write(`agent: bundle-cli failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
