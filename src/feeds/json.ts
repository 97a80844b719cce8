import { generateJsonFeed } from 'feedsmith';
import { entryId, type FeedEntry, type FeedSpec } from './model.js';

export function renderJsonFeed(spec: FeedSpec, entries: ReadonlyMap<string, FeedEntry>): string {
  const author = { name: spec.author.name, url: spec.homeUrl };
  const feed = generateJsonFeed({
    title: spec.title,
    home_page_url: spec.homeUrl,
    feed_url: spec.links.json,
    description: spec.description || undefined,
    language: spec.language,
    authors: [author],
    items: spec.posts.map((post) => {
      const entry = entries.get(post.file)!;
      return {
        id: entryId(post),
        url: post.url,
        title: post.title,
        content_html: entry.html,
        summary: entry.summary,
        date_published: new Date(post.date),
        date_modified: new Date(post.updated),
        tags: post.topics.length ? post.topics.map((topic) => topic.name) : undefined,
        image: post.image,
        authors: post.authors.length ? post.authors.map(({ name, url }) => ({ name, url })) : [author],
      };
    }),
  });
  // JSON Feed requires "items" even when empty; feedsmith drops empty lists.
  return `${JSON.stringify({ ...(feed as object), items: (feed as { items?: unknown[] }).items ?? [] }, null, 2)}\n`;
}
