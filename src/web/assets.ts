import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { WebEnv } from './env.js';

/**
 * Scripts and styles of the pages, all from this server: htmx and Chart.js from their installed
 * packages (municipal networks are often closed, and a CDN would see who works when), our own
 * small files from src/web/assets. No build step: the files are served as they are.
 */

const require = createRequire(import.meta.url);
const OWN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'assets');

const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: path.join(path.dirname(require.resolve('htmx.org/package.json')), 'dist', 'htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  // The UMD build defines the global `Chart`, so charts.js needs no module loader.
  'chart.umd.min.js': { file: path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  'app.css': { file: path.join(OWN, 'app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { file: path.join(OWN, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'charts.js': { file: path.join(OWN, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  'upload.js': { file: path.join(OWN, 'upload.js'), type: 'text/javascript; charset=utf-8' },
};

const cache = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

function load(name: string, file: string): Promise<Uint8Array<ArrayBuffer>> {
  let cached = cache.get(name);
  if (!cached) {
    cached = readFile(file).then((buffer) => new Uint8Array(buffer));
    cached.catch(() => cache.delete(name));
    cache.set(name, cached);
  }
  return cached;
}

export function registerAssets(web: Hono<WebEnv>): void {
  web.get('/assets/:file', async (c) => {
    const name = c.req.param('file');
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return c.body('Not found', 404, { 'Content-Type': 'text/plain; charset=utf-8' });
    // No-cache with validation would need ETags; an hour keeps a day's visits fast and an
    // upgrade visible the same day.
    return c.body(await load(name, asset.file), 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600' });
  });
}
