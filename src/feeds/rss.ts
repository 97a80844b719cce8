import RSS from 'rss';
import { escapeHtml } from '../text.js';
import { entryId, feedUpdated, type FeedEntry, type FeedSpec } from './model.js';

export function renderRss(spec: FeedSpec, entries: ReadonlyMap<string, FeedEntry>): string {
  const updated = feedUpdated(spec);
  const feed = new RSS({
    title: spec.title,
    description: spec.description || spec.title,
    site_url: spec.homeUrl,
    feed_url: spec.links.rss,
    language: spec.language,
    generator: 'herald',
    pubDate: updated,
    custom_namespaces: { media: 'http://search.yahoo.com/mrss/' },
  });
  for (const post of spec.posts) {
    const entry = entries.get(post.file)!;
    feed.item({
      title: post.title,
      description: escapeHtml(entry.summary),
      url: post.url,
      guid: entryId(post),
      categories: post.topics.map((topic) => topic.name),
      author: post.authors.length ? post.authors.map((author) => author.name).join(', ') : spec.author.name,
      date: new Date(post.date),
      custom_elements: [
        { 'content:encoded': { _cdata: entry.html } },
        { 'atom:updated': new Date(post.updated).toISOString() },
        // As jekyll-feed writes a post's image: readers show it beside the entry.
        ...(post.image ? [{ 'media:thumbnail': { _attr: { url: post.image } } }, { 'media:content': { _attr: { medium: 'image', url: post.image } } }] : []),
      ],
    });
  }
  // The rss package stamps lastBuildDate with the clock; pin it to the content so an
  // unchanged feed is byte-for-byte unchanged.
  return feed
    .xml({ indent: true })
    .replace(/<lastBuildDate>[^<]*<\/lastBuildDate>/, `<lastBuildDate>${updated.toUTCString()}</lastBuildDate>`);
}
