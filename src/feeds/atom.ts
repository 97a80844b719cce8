import type { FeedDocument } from './archives.js';
import { entryId, type FeedAuthor, type FeedEntry, type FeedUrls } from './model.js';
import { cdata, HISTORY_NS, MEDIA_NS, xmlProlog, xmlText } from './xml.js';

function person({ name, email, url }: { name: string; email?: string; url?: string }, indent: string): string {
  let xml = `${indent}<author>\n${indent}  <name>${xmlText(name)}</name>\n`;
  if (email) xml += `${indent}  <email>${xmlText(email)}</email>\n`;
  if (url) xml += `${indent}  <uri>${xmlText(url)}</uri>\n`;
  return `${xml}${indent}</author>\n`;
}

/** One post as an Atom entry, the same in every document that shows it. */
export function renderAtomEntry(entry: FeedEntry, author: FeedAuthor): string {
  const post = entry.meta;
  let xml = `  <entry>
    <id>${xmlText(entryId(post))}</id>
    <title type="text">${xmlText(post.title)}</title>
    <updated>${new Date(post.updated).toISOString()}</updated>
    <published>${new Date(post.date).toISOString()}</published>
    <link href="${xmlText(post.url)}" rel="alternate" type="text/html"/>\n`;
  if (entry.summary) xml += `    <summary type="text">${xmlText(entry.summary)}</summary>\n`;
  // xml:base: a reader resolves what is still relative in the HTML against the post, not the feed.
  xml += `    <content type="html" xml:base="${xmlText(post.url)}">${cdata(entry.html)}</content>\n`;
  for (const topic of post.topics) xml += `    <category term="${xmlText(topic.name)}"/>\n`;
  for (const one of post.authors.length ? post.authors : [author]) xml += person(one, '    ');
  if (post.image) xml += `    <media:thumbnail url="${xmlText(post.image)}"/>\n    <media:content medium="image" url="${xmlText(post.image)}"/>\n`;
  return `${xml}  </entry>\n`;
}

/** One document of a feed as Atom, around its entries (renderAtomEntry's, newest first). */
export function renderAtom(doc: FeedDocument, entries: readonly string[], updated: Date): string {
  const feed = doc.feed;
  const link = (rel: string, urls: FeedUrls | undefined) => (urls ? `  <link href="${xmlText(urls.atom)}" rel="${rel}" type="application/atom+xml"/>\n` : '');
  // Archives are documents of the same feed, so they carry its id.
  let xml = `${xmlProlog(feed.stylesheet)}<feed xmlns="http://www.w3.org/2005/Atom" xmlns:fh="${HISTORY_NS}" xmlns:media="${MEDIA_NS}" xml:lang="${xmlText(feed.language)}">
  <id>${xmlText(feed.links.atom)}</id>
  <title type="text">${xmlText(feed.title)}</title>\n`;
  if (feed.description) xml += `  <subtitle type="text">${xmlText(feed.description)}</subtitle>\n`;
  xml += `  <updated>${updated.toISOString()}</updated>\n  <generator>herald</generator>\n`;
  if (feed.icon) xml += `  <icon>${xmlText(feed.icon)}</icon>\n`;
  if (feed.logo) xml += `  <logo>${xmlText(feed.logo)}</logo>\n`;
  xml += `  <link href="${xmlText(feed.homeUrl)}" rel="alternate" type="text/html"/>\n${link('self', doc.self)}`;
  if (doc.page === 0) for (const hub of feed.hubs) xml += `  <link href="${xmlText(hub)}" rel="hub"/>\n`;
  xml += link('current', doc.current) + link('prev-archive', doc.prev) + link('next-archive', doc.next);
  if (doc.history) xml += `  <fh:${doc.history}/>\n`;
  xml += person(feed.author, '  ');
  return `${xml}${entries.join('')}</feed>\n`;
}
