/**
 * Bundles the agent CLI (agent/dist/cli.js and all its dependencies) into ONE CommonJS file for a
 * Node single executable. ESM-only dependencies get `import.meta.url` from sea-runtime.mjs; ps-list's
 * Windows helper lookup is routed through resolveFastlistPath (the one patch to a dependency; the
 * build fails with PATCH_NOT_APPLIED if ps-list changes shape, rather than shipping a broken
 * Windows executable).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { PackagingError, PACKAGING_ERROR_CODES } from './packaging-error.mjs';

const SEA_DIR = fileURLToPath(new URL('../sea/', import.meta.url));
export const SEA_RUNTIME = path.join(SEA_DIR, 'sea-runtime.mjs');
const SEA_ENTRY = path.join(SEA_DIR, 'sea-entry.mjs');

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

/** esbuild plugin: resolves the entry's CLI import, picks ESM builds and patches ps-list. */
function agentPlugin(agentCli, repoRoot) {
  const fromAgent = createRequire(path.join(repoRoot, 'agent', 'package.json'));
  return {
    name: 'mcpwatch-agent',
    setup(build) {
      build.onResolve({ filter: /^mcpwatch-agent-cli$/ }, () => ({ path: agentCli }));
      build.onResolve({ filter: new RegExp(`^(${Object.keys(ESM_BUILDS).join('|')})$`) }, (args) => ({
        path: path.join(path.dirname(fromAgent.resolve(`${args.path}/package.json`)), ESM_BUILDS[args.path]),
      }));
      build.onLoad({ filter: /[\\/]ps-list[\\/]index\.js$/ }, (args) => ({
        contents: patchPsListSource(readFileSync(args.path, 'utf8')),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      }));
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

/**
 * Bundles the agent.
 * @param {{repoRoot: string, outFile: string, build: {version: string, commit: string, nodeVersion: string}, agentCli?: string}} options
 *   agentCli: the module exporting `main(argv)`; default agent/dist/cli.js
 * @returns {Promise<{outFile: string, bytes: number}>}
 */
export async function bundleAgent({ repoRoot, outFile, build, agentCli = path.join(repoRoot, 'agent', 'dist', 'cli.js') }) {
  if (!existsSync(agentCli)) {
    throw new PackagingError(PACKAGING_ERROR_CODES.AGENT_NOT_BUILT, `${agentCli} does not exist: build the agent first (npm run build)`);
  }
  try {
    const result = await withTimeout(esbuild.build({
      entryPoints: [SEA_ENTRY],
      outfile: outFile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      minify: false,
      legalComments: 'none',
      // The build stamp as globalThis.__MCPWATCH_BUILD__, set before any module is evaluated so the
      // agent can report the version it was built as (a banner, not code using the define: esbuild
      // 0.25 panics on a define used inside an injected file).
      // The banner starts with the strict directive: the bundle's own comes after it.
      banner: { js: `'use strict';\nObject.defineProperty(globalThis, '__MCPWATCH_BUILD__', { value: Object.freeze(${JSON.stringify(build)}) });` },
      logLevel: 'silent',
      metafile: true,
      inject: [SEA_RUNTIME],
      define: {
        'import.meta.url': 'import_meta_url',
        __MCPWATCH_BUILD__: JSON.stringify(build),
      },
      plugins: [agentPlugin(agentCli, repoRoot)],
    }), BUNDLE_TIMEOUT_MS);
    const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
    const leftovers = findUnbundledRequires(readFileSync(outFile, 'utf8'));
    if (leftovers.length > 0) {
      throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `the bundle still requires ${leftovers.slice(0, 5).join(', ')} at run time (a single executable cannot load files): add the package to ESM_BUILDS in bundle-agent.mjs`);
    }
    return { outFile, bytes };
  } catch (error) {
    if (error instanceof PackagingError) throw error;
    const pluginError = /** @type {{errors?: {detail?: unknown}[]}} */ (error).errors?.find((e) => e.detail instanceof PackagingError)?.detail;
    if (pluginError) throw pluginError;
    throw new PackagingError(PACKAGING_ERROR_CODES.BUNDLE_FAILED, `esbuild could not bundle ${agentCli}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}
