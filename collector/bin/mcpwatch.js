#!/usr/bin/env node
// Launcher: the admin/query CLI over the collector's API.
import { main } from '../dist/admin-cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
