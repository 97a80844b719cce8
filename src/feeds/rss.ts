import RSS from 'rss';
import { escapeHtml } from '../text.js';
import type { FeedDocument } from './archives.js';
import { entryId, type FeedEntry, type FeedUrls } from './model.js';
import { HISTORY_NS, MEDIA_NS, xmlProlog } from './xml.js';

/** One document of a feed as RSS 2.0, written by the rss package; `entries` newest first. */
export function renderRss(doc: FeedDocument, entries: readonly FeedEntry[], updated: Date): string {
  const feed = doc.feed;
  const link = (rel: string, urls: FeedUrls | undefined) => (urls ? [{ 'atom:link': { _attr: { href: urls.rss, rel, type: 'application/rss+xml' } } }] : []);
  const rss = new RSS({
    title: feed.title,
    // The package falls back to the title, as RSS requires a description.
    description: feed.description,
    site_url: feed.homeUrl,
    feed_url: doc.self.rss,
    // RSS has one image, which readers show large: the logo, else the icon.
    image_url: feed.logo ?? feed.icon,
    language: feed.language,
    generator: 'herald',
    pubDate: updated,
    custom_namespaces: { fh: HISTORY_NS, media: MEDIA_NS },
    custom_elements: [
      // The package's `hub` option names one hub; a site may name several, and archives none.
      ...(doc.page === 0 ? feed.hubs.map((hub) => ({ 'atom:link': { _attr: { href: hub, rel: 'hub' } } })) : []),
      ...link('current', doc.current),
      ...link('prev-archive', doc.prev),
      ...link('next-archive', doc.next),
      // null is how the xml package writes an empty element.
      ...(doc.history ? [{ [`fh:${doc.history}`]: null }] : []),
    ],
  });
  for (const entry of entries) {
    const post = entry.meta;
    rss.item({
      title: post.title,
      // RSS's description is HTML: the plain-text summary escaped once for HTML (the package
      // carries it as CDATA). Left out when empty.
      description: escapeHtml(entry.summary),
      url: post.url,
      guid: entryId(post),
      categories: post.topics.map((topic) => topic.name),
      // Written as dc:creator: RSS's own author element must be an email address.
      author: post.authors.length ? post.authors.map((person) => person.name).join(', ') : feed.author.name,
      date: new Date(post.date),
      custom_elements: [
        { 'content:encoded': { _cdata: entry.html } },
        { 'atom:updated': new Date(post.updated).toISOString() },
        // As jekyll-feed writes a post's image: readers show it beside the entry.
        ...(post.image ? [{ 'media:thumbnail': { _attr: { url: post.image } } }, { 'media:content': { _attr: { medium: 'image', url: post.image } } }] : []),
      ],
    });
  }
  // The package writes its own XML declaration, with no way to add the stylesheet after it, and
  // stamps lastBuildDate with the clock: the declaration gives way to ours, and lastBuildDate is
  // pinned to the document's updated time so an unchanged feed is byte-for-byte unchanged.
  const xml = rss
    .xml({ indent: true })
    .replace(/^<\?xml [^?]*\?>/, xmlProlog(feed.stylesheet))
    .replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, `<lastBuildDate>${updated.toUTCString()}</lastBuildDate>`);
  return `${xml}\n`;
}
