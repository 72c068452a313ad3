#!/usr/bin/env node
// Launcher: the compiled CLI lives in ../dist (built by `npm ci` via the root prepare script).
import { main } from '../dist/cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
