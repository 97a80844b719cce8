import { generateAtomFeed } from 'feedsmith';
import { feedUpdated, type FeedEntry, type FeedSpec } from './model.js';

export function renderAtom(spec: FeedSpec, entries: ReadonlyMap<string, FeedEntry>): string {
  const author = { name: spec.author.name, email: spec.author.email, uri: spec.homeUrl };
  return generateAtomFeed({
    id: spec.links.atom,
    title: { value: spec.title, type: 'text' },
    subtitle: spec.description ? { value: spec.description, type: 'text' } : undefined,
    updated: feedUpdated(spec),
    generator: { text: 'herald' },
    links: [
      { href: spec.homeUrl, rel: 'alternate', type: 'text/html' },
      { href: spec.links.atom, rel: 'self', type: 'application/atom+xml' },
    ],
    authors: [author],
    entries: spec.posts.map((post) => {
      const entry = entries.get(post.file)!;
      return {
        id: post.id,
        title: { value: post.title, type: 'text' },
        updated: new Date(post.updated),
        published: new Date(post.date),
        links: [{ href: post.url, rel: 'alternate', type: 'text/html' }],
        summary: { value: entry.summary, type: 'text' },
        content: { value: entry.html, type: 'html' },
        categories: post.topics.map((topic) => ({ term: topic.name })),
        authors: [author],
      };
    }),
  }) as string;
}
