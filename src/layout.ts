// Where herald writes each of its own files below the output folder, in one place: the feeds and
// pages use these names, and a post, topic or alias may not take any of them (see reservedPath).
import type { Config } from './config.js';

/** A topic's folder below output: its feeds, archives and listing pages live there. */
export const TOPICS_DIR = 'topics';

/** RFC 5005 archive documents of a feed: `<feed dir>archive/<k>/<feed file>`, k = 1 the oldest. */
export const ARCHIVE_DIR = 'archive';

/** Listing pages after the first: `<dir>page/<k>/index.html`, k >= 2 (Hugo's and Jekyll's paginate path). */
export const PAGE_DIR = 'page';

/** Files at the output folder's root. */
export const SITE_FILES = {
  /** The XSLT stylesheet that shows RSS and Atom feeds as a page in a browser. */
  stylesheet: 'feed.xsl',
  /** Every feed, for importing them into a reader at once. */
  opml: 'feeds.opml',
  sitemap: 'sitemap.xml',
  robots: 'robots.txt',
} as const;

/**
 * The path of the feeds' stylesheet from the host's root (/feed.xsl, /blog/feed.xsl): feeds name
 * it root-relative, as browsers refuse a stylesheet from another origin and a feed is opened under
 * more names than site.url's (127.0.0.1 for localhost, http for https).
 */
export function stylesheetPath(siteUrl: string): string {
  return new URL(SITE_FILES.stylesheet, siteUrl).pathname;
}

/** The k-th part of a sitemap too large for one file: sitemap-1.xml, sitemap-2.xml... beside sitemap.xml, its index. */
export function sitemapPart(k: number): string {
  return SITE_FILES.sitemap.replace(/(\.xml)?$/, `-${k}$1`);
}

/** Any sitemapPart's name: reserved as a whole family, as a site may grow into more parts. */
export const SITEMAP_PART = /^sitemap-[1-9]\d*\.xml$/i;

/** herald start's routes, below web.url. */
export const WEB_ROUTES = ['subscribe', 'confirm', 'unsubscribe', 'webhooks/'] as const;

/** The folder of a feed below output: '' for the site, 'topics/<slug>/' for a topic (always ends in / unless ''). */
export function feedDir(topicSlug?: string): string {
  return topicSlug === undefined ? '' : `${TOPICS_DIR}/${topicSlug}/`;
}

/** The folder of a feed's k-th archive document below output (k = 1 the oldest). */
export function archiveDir(dir: string, k: number): string {
  return `${dir}${ARCHIVE_DIR}/${k}/`;
}

/** The path below output of a listing's k-th page (k = 1 is the listing's own index.html). */
export function listingPage(dir: string, k: number): string {
  return k === 1 ? `${dir}index.html` : `${dir}${PAGE_DIR}/${k}/index.html`;
}

/**
 * Paths below output that herald writes or answers itself, as the site's URL paths see them: a
 * name ending in / is a whole folder. Web routes count only where web.url puts them inside
 * site.url's space (a herald start on another host takes nothing from the site).
 */
export function reservedPaths(config: Config): string[] {
  const feeds = Object.values(config.feed.paths);
  const routes = WEB_ROUTES.flatMap((route) => {
    const url = new URL(route, config.web.url).href;
    return url.startsWith(config.site.url) ? [url.slice(config.site.url.length)] : [];
  });
  return [...feeds, 'index.html', `${TOPICS_DIR}/`, `${ARCHIVE_DIR}/`, `${PAGE_DIR}/`, ...Object.values(SITE_FILES), ...routes];
}
