// Bundle the three pages into ../api/static/web (committed, so the service runs without Node):
// rider.js, driver.js, operator.js, style.css (Leaflet's styles and images included) and the HTML pages.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'api', 'static', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ['rider', 'driver', 'operator'].map((name) => join(here, 'src', `${name}.js`))
    .concat(join(here, 'src', 'style.css')),
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outdir: out,
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: 'img/[name]-[hash]',
  logLevel: 'info',
});

for (const page of readdirSync(join(here, 'pages'))) copyFileSync(join(here, 'pages', page), join(out, page));
