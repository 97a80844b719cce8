// sitemap.xml (sitemaps.org 0.9) and robots.txt: how search engines find every page herald writes.
import { SITE_FILES, sitemapPart } from '../layout.js';
import { escapeHtml } from '../text.js';

export interface SitemapEntry {
  url: string;
  /** When what the page shows last changed, in milliseconds; unknown leaves <lastmod> out. */
  updated?: number;
}

/** One file to publish, by its path below output. */
export interface SiteFile {
  path: string;
  text: string;
}

/** What sitemaps.org allows in one sitemap file; tests pass smaller ones. */
export const SITEMAP_LIMITS = { urls: 50_000, bytes: 50 * 1024 * 1024 };

const NAMESPACE = 'http://www.sitemaps.org/schemas/sitemap/0.9';
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** W3C Datetime in UTC to the second, as sitemaps.org asks (2026-01-26T09:30:00Z). */
function w3cDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

function entryXml(element: 'url' | 'sitemap', { url, updated }: SitemapEntry): string {
  return `<${element}><loc>${escapeHtml(url)}</loc>${updated === undefined ? '' : `<lastmod>${w3cDate(updated)}</lastmod>`}</${element}>\n`;
}

/**
 * The sitemap of `entries`: sitemap.xml alone while they fit in one file; past 50,000 URLs or 50 MB,
 * sitemap.xml is a sitemap index of sitemap-1.xml, sitemap-2.xml... each within the limits.
 */
export function renderSitemaps(entries: SitemapEntry[], siteUrl: string, limits = SITEMAP_LIMITS): SiteFile[] {
  const open = `${HEAD}<urlset xmlns="${NAMESPACE}">\n`;
  const close = '</urlset>\n';
  const parts: { xml: string[]; bytes: number; updated?: number }[] = [];
  let part: (typeof parts)[number] | undefined;
  for (const entry of entries) {
    const xml = entryXml('url', entry);
    const bytes = Buffer.byteLength(xml);
    if (!part || part.xml.length >= limits.urls || part.bytes + bytes > limits.bytes) {
      part = { xml: [], bytes: Buffer.byteLength(open) + Buffer.byteLength(close) };
      parts.push(part);
    }
    part.xml.push(xml);
    part.bytes += bytes;
    if (entry.updated !== undefined) part.updated = Math.max(part.updated ?? -Infinity, entry.updated);
  }
  const urlset = (xml: string[]) => open + xml.join('') + close;
  if (parts.length <= 1) return [{ path: SITE_FILES.sitemap, text: urlset(parts[0]?.xml ?? []) }];
  const files = parts.map((each, i) => ({ path: sitemapPart(i + 1), text: urlset(each.xml), updated: each.updated }));
  const index = `${HEAD}<sitemapindex xmlns="${NAMESPACE}">\n${files.map((file) => entryXml('sitemap', { url: siteUrl + file.path, updated: file.updated })).join('')}</sitemapindex>\n`;
  return [{ path: SITE_FILES.sitemap, text: index }, ...files.map(({ path, text }) => ({ path, text }))];
}

/**
 * robots.txt: every crawler may read everything, and learns where the sitemap is. Crawlers read it
 * only at the host's root, so a site below a path (https://example.com/blog/) has it there for
 * the writer to merge into the host's own.
 */
export function renderRobots(siteUrl: string): string {
  return `User-agent: *\nAllow: /\n\nSitemap: ${siteUrl}${SITE_FILES.sitemap}\n`;
}
