#!/usr/bin/env node
// Launcher: the compiled CLI lives in ../dist (built by `npm ci` via the root prepare script); the
// bundled copy in ../dist/bundle is used while it matches the compiled files (see cliEntry).
// No V8 flag here: `run` and `watch` relaunch themselves with --max-semi-space-size=2 (see
// dist/runtime/launch.js), so short commands such as `scan` start without paying for it.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliEntry, launch } from '../dist/runtime/launch.js';

const entry = pathToFileURL(cliEntry(fileURLToPath(new URL('../dist', import.meta.url)))).href;
launch(fileURLToPath(import.meta.url), process.argv.slice(2), async (argv) => (await import(entry)).main(argv)).then((code) => {
  process.exitCode = code;
});
