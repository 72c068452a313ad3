/**
 * Bundles the agent for a Node single executable into three CommonJS files (sea-entry.mjs says how
 * the executable uses them):
 *   sea-main.cjs  the SEA's main script: a small dispatcher, with the build stamp and the SHA-256 of
 *                 each bundle below stamped in
 *   agent.cjs     the agent CLI (agent/dist/cli.js) and all its dependencies, plus the config table
 *   hook.cjs      only the hook entry (agent/dist/hook-cli.js): what a client runs around every MCP
 *                 tool call; its lazy config-table import is answered from agent.cjs
 *   agent.cjs.v8cache  optional: agent.cjs's V8 code cache, made by one target's Node binary
 *                 (sea/make-code-cache.mjs), for that target's executable only
 * ESM-only dependencies get `import.meta.url` from sea-runtime.mjs; ps-list's Windows helper lookup
 * is routed through resolveFastlistPath (the one patch to a dependency; the build fails with
 * PATCH_NOT_APPLIED if ps-list changes shape, rather than shipping a broken Windows executable).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';
import { runCommand } from './run-command.mjs';

const SEA_DIR = fileURLToPath(new URL('../sea/', import.meta.url));
export const SEA_RUNTIME = path.join(SEA_DIR, 'sea-runtime.mjs');
const SEA_ENTRY = path.join(SEA_DIR, 'sea-entry.mjs');
const SEA_AGENT = path.join(SEA_DIR, 'sea-agent.mjs');
const SEA_HOOK = path.join(SEA_DIR, 'sea-hook.mjs');
const MAKE_CODE_CACHE = path.join(SEA_DIR, 'make-code-cache.mjs');

/** SEA asset keys of the two bundles (read by sea-entry.mjs through the digests stamped into it). */
export const SEA_BUNDLE_KEYS = Object.freeze({ agent: 'mcpwatch/agent.cjs', hook: 'mcpwatch/hook.cjs', agentCodeCache: 'mcpwatch/agent.cjs.v8cache' });
/** What the hook bundle requires in place of the config table (sea-entry.mjs answers it). */
const CONFIG_TABLE_REQUEST = 'mcpwatch-sea:config-table';

/** The statement in ps-list/index.js whose path is routed through the SEA asset resolver. */
const PS_LIST_HELPER_LINE = "const binaryPath = path.join(__dirname, 'vendor', binary);";

/**
 * Rewrites ps-list's source so its Windows helper comes from the SEA asset when there is one.
 * @param {string} source ps-list/index.js
 * @returns {string}
 */
export function patchPsListSource(source) {
  const count = source.split(PS_LIST_HELPER_LINE).length - 1;
  if (count !== 1) {
    throw new PackagingError(PACKAGING_ERROR_CODES.PATCH_NOT_APPLIED, `ps-list/index.js no longer contains "${PS_LIST_HELPER_LINE}" exactly once (found ${count}); update bundle-agent.mjs for the new ps-list`);
  }
  return `import { resolveFastlistPath as __mcpwatchResolveFastlist } from ${JSON.stringify(SEA_RUNTIME)};\n`
    + source.replace(PS_LIST_HELPER_LINE, "const binaryPath = __mcpwatchResolveFastlist(binary, path.join(__dirname, 'vendor', binary));");
}

/**
 * Packages whose "main" is a UMD build with requires esbuild cannot follow (they stay as runtime
 * `require('./x')`, which a SEA cannot load): bundle their ES module build instead.
 */
const ESM_BUILDS = Object.freeze({ 'jsonc-parser': 'lib/esm/main.js' });

/**
 * Relative `require()` calls left in the bundle. Inside a SEA `require` loads only built-in
 * modules, so any of these would fail at run time: the build refuses them.
 */
export function findUnbundledRequires(code) {
  return [...code.matchAll(/\brequire\(\s*["'](\.{1,2}\/[^"']*)["']\s*\)/g)].map((m) => m[1]);
}

/**
 * esbuild plugin: resolves the entries' agent imports, picks ESM builds and patches ps-list. With
 * `configTableFromAgent` (the hook bundle) the config table is not bundled: its import becomes a
 * `require` of CONFIG_TABLE_REQUEST, which the dispatcher answers from the agent bundle.
 */
function agentPlugin(repoRoot, entries, { configTableFromAgent = false } = {}) {
  const fromAgent = createRequire(path.join(repoRoot, 'agent', 'package.json'));
  return {
    name: 'mcpwatch-agent',
    setup(build) {
      build.onResolve({ filter: /^mcpwatch-agent-(cli|hook|config-table)$/ }, (args) => ({ path: entries[args.path] }));
      build.onResolve({ filter: new RegExp(`^(${Object.keys(ESM_BUILDS).join('|')})$`) }, (args) => ({
        path: path.join(path.dirname(fromAgent.resolve(`${args.path}/package.json`)), ESM_BUILDS[args.path]),
      }));
      build.onLoad({ filter: /[\\/]ps-list[\\/]index\.js$/ }, (args) => ({
        contents: patchPsListSource(readFileSync(args.path, 'utf8')),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      }));
      if (!configTableFromAgent) return;
      build.onResolve({ filter: /config-table\.js$/ }, (args) => (path.resolve(args.resolveDir, args.path) === entries['mcpwatch-agent-config-table']
        ? { path: 'config-table', namespace: 'mcpwatch-sea' }
        : undefined));
      build.onLoad({ filter: /^config-table$/, namespace: 'mcpwatch-sea' }, () => ({ contents: `module.exports = require(${JSON.stringify(CONFIG_TABLE_REQUEST)});`, loader: 'js' }));
      build.onResolve({ filter: new RegExp(`^${CONFIG_TABLE_REQUEST}$`) }, () => ({ path: CONFIG_TABLE_REQUEST, external: true }));
    },
  };
}

/** esbuild normally bundles the agent in well under a second; a panic inside it never settles. */
const BUNDLE_TIMEOUT_MS = 120_000;

/** Rejects with BUNDLE_FAILED when `promise` has not settled after `ms`. */
function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `esbuild did not finish in ${ms / 1000} s (see its panic output above)`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** esbuild options every bundle shares. */
const COMMON = Object.freeze({
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  minify: false,
  legalComments: 'none',
  logLevel: 'silent',
  metafile: true,
});

/** Runs one esbuild build and returns the output's size; refuses relative requires left in it. */
async function buildOne(options) {
  const result = await withTimeout(esbuild.build({ ...COMMON, ...options }), BUNDLE_TIMEOUT_MS);
  const leftovers = findUnbundledRequires(readFileSync(options.outfile, 'utf8'));
  if (leftovers.length > 0) {
    throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `the bundle still requires ${leftovers.slice(0, 5).join(', ')} at run time (a single executable cannot load files): add the package to ESM_BUILDS in bundle-agent.mjs`);
  }
  return Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

/** SHA-256 (hex) of a file. */
export function fileSha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Bundles the agent into `outDir` (sea-main.cjs, agent.cjs, hook.cjs, and with `codeCache`
 * agent.cjs.v8cache).
 * @param {{repoRoot: string, outDir: string, build: {version: string, commit: string, nodeVersion: string}, agentCli?: string, hookCli?: string, codeCache?: {target: string, node: string} | null}} options
 *   agentCli: the module exporting the CLI's `main(argv)`; default agent/dist/cli.js.
 *   hookCli: the module exporting the hook's `main(argv)`; default agent/dist/hook-cli.js.
 *   codeCache: make agent.cjs's V8 code cache with `node`, the Node binary of executable `target`.
 * @returns {Promise<{main: string, assets: Record<string, string>, codeCache: {target: string, assets: Record<string, string>} | null, bytes: {main: number, agent: number, hook: number, agentCodeCache: number}}>}
 *   assets: SEA asset key → file, for every blob; codeCache.assets: only for the blob of codeCache.target
 */
export async function bundleAgent({ repoRoot, outDir, build, agentCli = path.join(repoRoot, 'agent', 'dist', 'cli.js'), hookCli = path.join(repoRoot, 'agent', 'dist', 'hook-cli.js'), codeCache = null }) {
  for (const file of [agentCli, hookCli]) {
    if (!existsSync(file)) throw new PackagingError(PACKAGING_ERROR_CODES.AGENT_NOT_BUILT, `${file} does not exist: build the agent first (npm run build)`);
  }
  const entries = {
    'mcpwatch-agent-cli': agentCli,
    'mcpwatch-agent-hook': hookCli,
    'mcpwatch-agent-config-table': path.join(repoRoot, 'agent', 'dist', 'config', 'config-table.js'),
  };
  const files = { main: path.join(outDir, 'sea-main.cjs'), agent: path.join(outDir, 'agent.cjs'), hook: path.join(outDir, 'hook.cjs'), agentCodeCache: path.join(outDir, 'agent.cjs.v8cache') };
  // The bundles: CommonJS, whose exports the dispatcher reads. ESM-only dependencies read
  // import.meta.url from sea-runtime.mjs (injected; esbuild keeps only what is used).
  // Whitespace and comments go (identifiers stay): less to read and parse at every start, and no
  // comment's typographic quote turns the whole source into a two-byte string in V8's heap.
  const bundleOptions = {
    minifyWhitespace: true,
    banner: { js: "'use strict';" },
    inject: [SEA_RUNTIME],
    define: { 'import.meta.url': 'import_meta_url', __MCPWATCH_BUILD__: JSON.stringify(build) },
  };
  try {
    const agent = await buildOne({ ...bundleOptions, entryPoints: [SEA_AGENT], outfile: files.agent, plugins: [agentPlugin(repoRoot, entries)] });
    const hook = await buildOne({ ...bundleOptions, entryPoints: [SEA_HOOK], outfile: files.hook, plugins: [agentPlugin(repoRoot, entries, { configTableFromAgent: true })] });
    const bundles = {
      agent: { key: SEA_BUNDLE_KEYS.agent, sha256: fileSha256(files.agent) },
      hook: { key: SEA_BUNDLE_KEYS.hook, sha256: fileSha256(files.hook) },
    };
    if (codeCache) {
      try {
        await runCommand(codeCache.node, [MAKE_CODE_CACHE, files.agent, files.agentCodeCache]);
      } catch (error) {
        throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `could not make the agent bundle's code cache with ${codeCache.node}: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      bundles.agent.cache = { key: SEA_BUNDLE_KEYS.agentCodeCache, sha256: fileSha256(files.agentCodeCache) };
    }
    // The dispatcher: the build stamp and the bundles' digests as constants.
    const main = await buildOne({
      entryPoints: [SEA_ENTRY],
      outfile: files.main,
      banner: { js: "'use strict';" },
      define: { __MCPWATCH_BUILD__: JSON.stringify(build), __MCPWATCH_SEA_BUNDLES__: JSON.stringify(bundles) },
    });
    return {
      main: files.main,
      assets: { [SEA_BUNDLE_KEYS.agent]: files.agent, [SEA_BUNDLE_KEYS.hook]: files.hook },
      codeCache: codeCache ? { target: codeCache.target, assets: { [SEA_BUNDLE_KEYS.agentCodeCache]: files.agentCodeCache } } : null,
      bytes: { main, agent, hook, agentCodeCache: codeCache ? statSync(files.agentCodeCache).size : 0 },
    };
  } catch (error) {
    if (error instanceof PackagingError) throw error;
    const pluginError = /** @type {{errors?: {detail?: unknown}[]}} */ (error).errors?.find((e) => e.detail instanceof PackagingError)?.detail;
    if (pluginError) throw pluginError;
    throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `esbuild could not bundle ${agentCli}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}
