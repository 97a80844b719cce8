import { join, sep } from 'node:path';
import type { Config } from '../config.js';
import { listingPage } from '../layout.js';

/** The path of a URL below site.url, decoded, without query or fragment: '' is the site's root. */
function pathBelowSite(config: Config, url: string): string {
  return decodeURIComponent(url.slice(config.site.url.length).replace(/[?#].*$/, ''));
}

/**
 * Where a page for `url` lives in the output folder: /slug/ is slug/index.html, /slug.html is
 * itself, and /slug (a permalink without a trailing slash) is slug.html, which herald start, GitHub
 * Pages and Netlify all serve at /slug as HTML.
 */
export function pagePath(config: Config, url: string): string {
  const path = pathBelowSite(config, url);
  const file = path.endsWith('/') || path === '' ? join(config.paths.output, `${path}index.html`) : join(config.paths.output, /\.html?$/i.test(path) ? path : `${path}.html`);
  // Posts with such an address are refused when read (parse.ts); nothing is written outside output.
  if (!insideOutput(config, file)) throw new Error(`the page for ${url} would be outside the output folder`);
  return file;
}

function insideOutput(config: Config, file: string): boolean {
  return file.startsWith(join(config.paths.output, sep));
}

/**
 * The file in the output folder that `url` names, for any URL below site.url (an image herald
 * published, say); undefined for a URL elsewhere, or one whose path climbs out of output.
 */
export function publishedFile(config: Config, url: string): string | undefined {
  if (!url.startsWith(config.site.url)) return undefined;
  let path: string;
  try {
    path = pathBelowSite(config, url);
  } catch {
    return undefined;
  }
  const file = join(config.paths.output, path);
  return insideOutput(config, file) ? file : undefined;
}

/** The URL of a listing's k-th page (k = 1 the listing's own folder), for a folder below output ('' or ending in /). */
export function listingUrl(config: Config, dir: string, k: number): string {
  return new URL(listingPage(dir, k).slice(0, -'index.html'.length), config.site.url).href;
}

/** The URLs of the site's feeds (dir '') or a topic's (feedDir(slug)), named by feed.paths. */
export function feedUrls(config: Config, dir: string): { rss: string; atom: string; json: string } {
  const base = new URL(dir, config.site.url).href;
  return { rss: base + config.feed.paths.rss, atom: base + config.feed.paths.atom, json: base + config.feed.paths.json };
}
