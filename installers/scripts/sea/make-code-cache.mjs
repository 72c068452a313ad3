/**
 * Makes the V8 code cache of a bundle; run by the Node binary of the target it is for (the build
 * runs it with the linux-x64 Node the executables are made from):
 *
 *   node make-code-cache.mjs BUNDLE OUT
 *
 * Compiles BUNDLE as sea-entry.mjs does (bundle-wrapper.mjs), evaluates its top level (module
 * definitions only: main() is not called; `require` gives built-in modules only) so the functions
 * every start compiles are in the cache, and writes script.createCachedData() to OUT. V8 accepts
 * the cache only in the same V8 build with the same flags, for a source of the same length; the
 * dispatcher also checks its SHA-256. Exit 0, or 1 with the error on stderr.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { BUNDLE_PARAMS, wrapBundle } from './bundle-wrapper.mjs';

const [bundle, out] = process.argv.slice(2);
try {
  if (!bundle || !out) throw new Error('usage: node make-code-cache.mjs BUNDLE OUT');
  const script = new vm.Script(wrapBundle(readFileSync(bundle, 'utf8')), { filename: bundle, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const nodeRequire = createRequire(path.resolve(bundle));
  const builtinsOnly = (request) => {
    if (!isBuiltin(request)) throw new Error(`the bundle requires ${JSON.stringify(request)} at its top level`);
    return nodeRequire(request);
  };
  const module = { exports: {} };
  const args = { exports: module.exports, require: builtinsOnly, module, __filename: path.resolve(bundle), __dirname: path.dirname(path.resolve(bundle)) };
  script.runInThisContext().apply(module.exports, BUNDLE_PARAMS.map((name) => args[name]));
  writeFileSync(out, script.createCachedData());
  process.exit(0); // a module's top level may have left a handle open
} catch (error) {
  process.stderr.write(`make-code-cache: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
