import { generateAtomFeed } from 'feedsmith';
import { entryId, feedUpdated, type FeedEntry, type FeedSpec } from './model.js';

export function renderAtom(spec: FeedSpec, entries: ReadonlyMap<string, FeedEntry>): string {
  const author = { name: spec.author.name, email: spec.author.email, uri: spec.homeUrl };
  const xml = generateAtomFeed({
    xml: { lang: spec.language },
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
        id: entryId(post),
        title: { value: post.title, type: 'text' },
        updated: new Date(post.updated),
        published: new Date(post.date),
        links: [{ href: post.url, rel: 'alternate', type: 'text/html' }],
        summary: { value: entry.summary, type: 'text' },
        content: { value: entry.html, type: 'html' },
        categories: post.topics.map((topic) => ({ term: topic.name })),
        authors: post.authors.length ? post.authors.map(({ name, email, url }) => ({ name, email, uri: url })) : [author],
        ...(post.image ? { media: { thumbnails: [{ url: post.image }] } } : {}),
      };
    }),
  }) as string;
  // feedsmith indents CDATA sections onto their own lines; in a text construct that whitespace
  // would be part of the title, so pull them back against their tags.
  return xml.replace(/>\s+<!\[CDATA\[/g, '><![CDATA[').replace(/\]\]>\s+</g, ']]><');
}
