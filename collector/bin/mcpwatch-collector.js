#!/usr/bin/env node
// Launcher: the compiled collector server lives in ../dist (built by `npm ci` via the root prepare script).
import { main } from '../dist/server-cli.js';
main(process.argv.slice(2)).then((code) => { if (code !== undefined) process.exitCode = code; });
