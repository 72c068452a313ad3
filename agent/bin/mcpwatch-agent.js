#!/usr/bin/env node
// Launcher: the compiled CLI lives in ../dist (built by `npm ci` via the root prepare script).
// No V8 flag here: `run` and `watch` relaunch themselves with --max-semi-space-size=2 (see
// dist/runtime/launch.js), so short commands such as `scan` start without paying for it.
import { fileURLToPath } from 'node:url';
import { launch } from '../dist/runtime/launch.js';

launch(fileURLToPath(import.meta.url), process.argv.slice(2), async (argv) => (await import('../dist/cli.js')).main(argv)).then((code) => {
  process.exitCode = code;
});
