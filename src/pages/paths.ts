import { join } from 'node:path';
import type { Config } from '../config.js';

/**
 * Where a page for `url` lives in the output folder: /slug/ is slug/index.html, /slug.html is
 * itself, and /slug (a permalink without a trailing slash) is slug.html, which herald start, GitHub
 * Pages and Netlify all serve at /slug as HTML.
 */
export function pagePath(config: Config, url: string): string {
  const path = decodeURIComponent(url.slice(config.site.url.length).replace(/[?#].*$/, ''));
  if (path.endsWith('/') || path === '') return join(config.paths.output, `${path}index.html`);
  return join(config.paths.output, /\.html?$/i.test(path) ? path : `${path}.html`);
}
