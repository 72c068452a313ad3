/**
 * Main script of the agent's single executable: a small dispatcher, so a start parses only the code
 * its command needs (bundle-agent.mjs builds it and the two bundles it loads; make-executables.mjs
 * embeds those as SEA assets):
 *
 * - `--version` / `-V`: prints the stamped build, loads nothing.
 * - `hook …` (run by a client around every MCP tool call; DESIGN budget p95 ≤ 60 ms over the bare
 *   start): the hook bundle (agent/dist/hook-cli.js, about 40 KB). Its one lazy import, the config table
 *   (taken only without --state-dir and MCPWATCH_STATE_DIR), is answered from the agent bundle.
 * - anything else: the agent bundle (agent/dist/cli.js, all of it).
 *
 * A bundle is compiled as a CommonJS function (bundle-wrapper.mjs) whose `require` loads Node's
 * built-in modules only: nothing is ever loaded from disk. Before it is compiled its SHA-256 is
 * checked against the digest stamped into this script at build time.
 *
 * The agent bundle may carry a V8 code cache, made at build time by the Node binary of the target
 * (make-code-cache.mjs; only the linux-x64 executable has one): about 50 ms less to compile and
 * evaluate it (measured with node 22.23.2). It is used when present and its digest matches; V8
 * itself rejects one made by another V8 build or under other V8 flags (NODE_OPTIONS), and then
 * the bundle is compiled as usual. A missing, damaged or rejected cache only costs that time.
 * The hook bundle has none: it compiles and runs in about 7 ms with or without one (measured).
 * MCPWATCH_SEA_TRACE=1 says on stderr which cache state each load met.
 *
 * Also publishes the build stamp as `globalThis.__MCPWATCH_BUILD__` for the agent's heartbeat
 * (agent/src/runtime/agent-version.ts).
 *
 * A missing or damaged bundle: one line on stderr naming it and saying to reinstall; exit 70, but
 * exit 0 for `hook`, which must never break the client's tool call (the hook's own last resort
 * answers the same way, agent/src/hook-cli.ts). Exit code otherwise: main's result; 70 if main throws.
 */
import { createHash } from 'node:crypto';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { getRawAsset } from 'node:sea';
import vm from 'node:vm';
import { BUNDLE_PARAMS, wrapBundle } from './bundle-wrapper.mjs';

/* global __MCPWATCH_BUILD__, __MCPWATCH_SEA_BUNDLES__ */
/** @type {{version: string, commit: string, nodeVersion: string}} */
const BUILD = __MCPWATCH_BUILD__;
/**
 * Per bundle: asset key and SHA-256 of the code, and of its code cache when the build made one.
 * @type {Record<'agent' | 'hook', {key: string, sha256: string, cache?: {key: string, sha256: string}}>}
 */
const BUNDLES = __MCPWATCH_SEA_BUNDLES__;
/** What the hook bundle requires in place of its lazy config-table import (bundle-agent.mjs). */
const CONFIG_TABLE_REQUEST = 'mcpwatch-sea:config-table';
const EXIT_SOFTWARE = 70;

Object.defineProperty(globalThis, '__MCPWATCH_BUILD__', { value: Object.freeze({ ...BUILD }) });

class DamagedExecutableError extends Error {}

const nodeRequire = createRequire(process.execPath);

/**
 * Asset `key` with its digest checked; throws DamagedExecutableError. A view of the executable's
 * own memory (getRawAsset), not a copy: the agent bundle is about 3 MB.
 */
function verifiedAsset(key, sha256) {
  let bytes;
  try {
    bytes = Buffer.from(getRawAsset(key));
  } catch (error) {
    throw new DamagedExecutableError(`the embedded ${key} is missing (${error instanceof Error ? error.message : String(error)})`);
  }
  if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
    throw new DamagedExecutableError(`the embedded ${key} is damaged (its SHA-256 is not the one it was built with)`);
  }
  return bytes;
}

/** The bundle's code cache when this executable carries an intact one; never throws. */
function codeCache(spec) {
  if (!spec.cache) return { data: undefined, state: 'none built' };
  try {
    return { data: verifiedAsset(spec.cache.key, spec.cache.sha256), state: 'present' };
  } catch (error) {
    return { data: undefined, state: error instanceof Error ? error.message : String(error) };
  }
}

const loaded = new Map();

/**
 * Evaluates bundle `name` once and returns its exports.
 * @param {'agent' | 'hook'} name
 */
function loadBundle(name) {
  if (loaded.has(name)) return loaded.get(name);
  const spec = BUNDLES[name];
  const source = wrapBundle(verifiedAsset(spec.key, spec.sha256).toString('utf8'));
  const cache = codeCache(spec);
  let wrapper;
  try {
    const script = new vm.Script(source, {
      filename: `${process.execPath}/${spec.key}`,
      cachedData: cache.data,
      importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    if (process.env.MCPWATCH_SEA_TRACE === '1') {
      const state = cache.data ? (script.cachedDataRejected ? 'rejected by V8' : 'accepted') : cache.state;
      process.stderr.write(`mcpwatch-agent: ${spec.key}: code cache ${state}\n`);
    }
    wrapper = script.runInThisContext();
  } catch (error) {
    throw new DamagedExecutableError(`the embedded ${spec.key} does not compile (${error instanceof Error ? error.message : String(error)})`);
  }
  const module = { exports: {} };
  const args = { exports: module.exports, require: bundleRequire, module, __filename: process.execPath, __dirname: path.dirname(process.execPath) };
  wrapper.apply(module.exports, BUNDLE_PARAMS.map((param) => args[param]));
  if (typeof module.exports.main !== 'function') throw new DamagedExecutableError(`the embedded ${spec.key} exports no main()`);
  loaded.set(name, module.exports);
  return module.exports;
}

/** `require` inside a bundle: built-in modules, and the config table from the agent bundle. */
function bundleRequire(request) {
  if (request === CONFIG_TABLE_REQUEST) return loadBundle('agent').configTable;
  if (!isBuiltin(request)) throw new Error(`the single executable loads no module from disk (${JSON.stringify(request)})`);
  return nodeRequire(request);
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  const target = `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  process.stdout.write(`mcpwatch-agent ${BUILD.version} (commit ${BUILD.commit}, ${target}, node ${process.versions.node})\n`);
} else {
  const isHook = argv[0] === 'hook';
  const fail = (error) => {
    const what = error instanceof DamagedExecutableError ? `${error.message}; reinstall mcpwatch-agent` : `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`mcpwatch-agent: ${what}\n`);
    process.exitCode = isHook ? 0 : EXIT_SOFTWARE;
  };
  try {
    loadBundle(isHook ? 'hook' : 'agent').main(argv).then((code) => { process.exitCode = typeof code === 'number' ? code : 0; }, fail);
  } catch (error) {
    fail(error);
  }
}
