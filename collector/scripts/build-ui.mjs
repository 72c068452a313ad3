#!/usr/bin/env node
// Builds the dashboard (ui/src, Preact + preact-iso + uPlot) into dist/ui with esbuild: one
// minified app.js, one app.css and index.html. Run by the root `npm run build` (so at `npm ci`,
// through `prepare`). No CDN, no runtime fetches: the collector serves these files itself.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
mkdirSync(out, { recursive: true });
const started = Date.now();
const result = await build({
  entryPoints: { app: join(root, 'ui', 'src', 'main.tsx') },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(root, 'ui', 'index.html'), join(out, 'index.html'));
const bytes = Object.entries(result.metafile.outputs).filter(([f]) => !f.endsWith('.map')).reduce((n, [, o]) => n + o.bytes, 0);
console.log(`dashboard built into ${out} (${Math.round(bytes / 1024)} KiB, ${Date.now() - started} ms)`);
