// Bundles src/page.tsx and Grafana's packages for the browser: dist/page.js, dist/page.css,
// and the fonts Grafana's server would serve under dist/public/fonts/. Grafana's frontend
// code expects a browser (window, document, CSS), so it runs in Chromium, not in Node.js.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/page.tsx'],
  bundle: true,
  outdir: 'dist',
  format: 'iife',
  target: 'chrome120',
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  loader: { '.svg': 'text', '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.png': 'file' },
  logLevel: 'warning',
});

// @grafana/ui's global styles load Inter from <public path>fonts/inter/ (public/fonts/ of
// grafana/grafana, not on npm): the same typeface from @fontsource/inter, Latin subset.
const INTER = { Regular: '400-normal', Medium: '500-normal', Italic: '400-italic', MediumItalic: '500-italic' };
mkdirSync('dist/public/fonts/inter', { recursive: true });
for (const [grafana, fontsource] of Object.entries(INTER)) {
  copyFileSync(
    `node_modules/@fontsource/inter/files/inter-latin-${fontsource}.woff2`,
    `dist/public/fonts/inter/Inter-${grafana}.woff2`
  );
}
