// Bundle the three pages into ../api/static/web (committed, so the service runs without Node):
// rider.js, driver.js, operator.js, style.css (Leaflet's styles and images included) and the HTML pages;
// and the riders' installable app: its icons (drawn by ./icons.mjs), its web app manifest and its service
// worker (src/sw.js), which precaches the app shell — the page, the rider bundle with its chunks, the
// styles, images and icons — under a version that changes whenever one of them does.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { iconPng, iconSvg } from './icons.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'api', 'static', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const bundle = await build({
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
  metafile: true,
});

for (const page of readdirSync(join(here, 'pages'))) copyFileSync(join(here, 'pages', page), join(out, page));

// --- the riders' installable app ---------------------------------------------------------------------
const ICON_SIZES = [192, 512];
mkdirSync(join(out, 'icons'), { recursive: true });
writeFileSync(join(out, 'icons', 'icon.svg'), iconSvg());
for (const size of ICON_SIZES) writeFileSync(join(out, 'icons', `icon-${size}.png`), iconPng(size));

const manifest = {
  name: 'Rufbus', short_name: 'Rufbus', description: 'Rufbus – Fahrten bestellen / book a ride',
  id: '/app', start_url: '/app', scope: '/app', display: 'standalone', orientation: 'portrait',
  lang: 'de', theme_color: '#1d5fa8', background_color: '#f6f7f9',
  icons: [
    ...ICON_SIZES.map((size) => ({ src: `/static/web/icons/icon-${size}.png`, sizes: `${size}x${size}`, type: 'image/png', purpose: 'any' })),
    { src: '/static/web/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: '/static/web/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
  ],
};
writeFileSync(join(out, 'rider.webmanifest'), `${JSON.stringify(manifest, null, 2)}\n`);

// The shell: the rider bundle and every chunk it imports, the styles and their images, the icons.
const url = (file) => `/static/web/${relative(out, file).split('\\').join('/')}`;
const outputs = bundle.metafile.outputs;
const byPath = Object.fromEntries(Object.keys(outputs).map((key) => [join(process.cwd(), key), key]));
const shellFiles = new Set();
const visit = (file) => {
  if (shellFiles.has(file)) return;
  shellFiles.add(file);
  for (const imported of outputs[byPath[file]].imports) if (imported.kind === 'import-statement') visit(join(process.cwd(), imported.path));
};
visit(join(out, 'rider.js'));
shellFiles.add(join(out, 'style.css'));
for (const key of Object.keys(outputs)) if (key.includes('/img/')) shellFiles.add(join(process.cwd(), key));
const icons = ['icons/icon.svg', ...ICON_SIZES.map((size) => `icons/icon-${size}.png`)].map((name) => join(out, name));
const files = [...shellFiles, ...icons, join(out, 'rider.html'), join(out, 'rider.webmanifest')];
const version = createHash('sha256');
for (const file of files.sort()) version.update(file).update(readFileSync(file));
const shell = ['/app', '/app.webmanifest', ...[...shellFiles, ...icons].map(url).sort()];

await build({
  entryPoints: [join(here, 'src', 'sw.js')],
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  outfile: join(out, 'sw.js'),
  define: { SHELL_VERSION: JSON.stringify(version.digest('hex').slice(0, 12)), SHELL_FILES: JSON.stringify(shell) },
  logLevel: 'info',
});
