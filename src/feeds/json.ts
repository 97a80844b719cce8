import type { FeedDocument } from './archives.js';
import { entryId, type FeedAuthor, type FeedEntry } from './model.js';

const VERSION = 'https://jsonfeed.org/version/1.1';

// The document reads exactly as JSON.stringify(feed, null, 2) would write it, but each item is
// written once, for every document that shows it, so the text is put together here.
function members(object: Record<string, unknown>, indent: string): string {
  const inner = `${indent}  `;
  const lines: string[] = [];
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    // A string's JSON holds no line break, so only nested values need their lines indented.
    const json = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, null, 2).replace(/\n/g, `\n${inner}`);
    lines.push(`${inner}${JSON.stringify(key)}: ${json}`);
  }
  return lines.join(',\n');
}

/** One post as a JSON Feed item, the same in every document that shows it. */
export function renderJsonItem(entry: FeedEntry, author: FeedAuthor): string {
  const post = entry.meta;
  const item = {
    id: entryId(post),
    url: post.url,
    title: post.title,
    content_html: entry.html,
    summary: entry.summary || undefined,
    image: post.image,
    date_published: new Date(post.date).toISOString(),
    date_modified: new Date(post.updated).toISOString(),
    tags: post.topics.length ? post.topics.map((topic) => topic.name) : undefined,
    authors: post.authors.length ? post.authors.map(({ name, url }) => ({ name, url })) : [{ name: author.name, url: author.url }],
  };
  return `    {\n${members(item, '    ')}\n    }`;
}

/** One document of a feed as JSON Feed 1.1, around its items (renderJsonItem's, newest first). */
export function renderJsonFeed(doc: FeedDocument, items: readonly string[]): string {
  const feed = doc.feed;
  const head = {
    version: VERSION,
    title: feed.title,
    home_page_url: feed.homeUrl,
    feed_url: doc.self.json,
    description: feed.description || undefined,
    // JSON Feed pages go back in time: next_url is the next older page.
    next_url: doc.prev?.json,
    icon: feed.logo ?? feed.icon,
    favicon: feed.icon,
    authors: [{ name: feed.author.name, url: feed.author.url }],
    language: feed.language,
    hubs: doc.page === 0 && feed.hubs.length ? feed.hubs.map((url) => ({ type: 'WebSub', url })) : undefined,
  };
  // JSON Feed requires "items" even when there are none.
  return `{\n${members(head, '')},\n  "items": [${items.length ? `\n${items.join(',\n')}\n  ` : ''}]\n}\n`;
}
