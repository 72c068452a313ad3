#!/usr/bin/env node
// Launcher: the compiled CLI lives in ../dist (built by `npm ci` via the root prepare script); the
// bundled copy in ../dist/bundle is used while it matches the compiled files (see cliEntry).
// `hook` (run by a client around every MCP tool call) starts from its own one-file bundle,
// ../dist/bundle-hook, by the same rule: it never loads the rest of the CLI.
// No V8 flag here: `run` and `watch` relaunch themselves with --max-semi-space-size=2 (see
// dist/runtime/launch.js), so short commands such as `scan` start without paying for it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliEntry, launch } from '../dist/runtime/launch.js';

const args = process.argv.slice(2);
const entry = pathToFileURL(cliEntry(fileURLToPath(new URL('../dist', import.meta.url)), args[0])).href;
launch(fileURLToPath(import.meta.url), args, async (argv) => (await import(entry)).main(argv)).then((code) => {
  process.exitCode = code;
});
