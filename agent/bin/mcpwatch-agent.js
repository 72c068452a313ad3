#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: a long-running agent keeps V8's young generation small (about 25 MB less RSS at
// the same CPU); the flag is read when the heap is set up, so it has to be on the command line.
// Launcher: the compiled CLI lives in ../dist (built by `npm ci` via the root prepare script).
import { main } from '../dist/cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
