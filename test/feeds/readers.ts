import { execFileSync } from 'node:child_process';
import { parseFeed } from '@rowanmanning/feed-parser';

/** What a feed reader shows of one entry. */
export interface ReadEntry {
  id: string;
  title: string;
  link: string;
  summary: string;
  content: string;
  tags: string[];
  published: string;
  updated: string;
  author: string;
}

export interface ReadFeed {
  title: string;
  self?: string;
  entries: ReadEntry[];
}

/** Parses RSS or Atom the way @rowanmanning/feed-parser (used by feed reader apps) does. */
export function readWithFeedParser(xml: string): ReadFeed {
  const feed = parseFeed(xml);
  return {
    title: feed.title ?? '',
    self: feed.self ?? undefined,
    entries: feed.items.map((item) => ({
      id: item.id ?? '',
      title: item.title ?? '',
      link: item.url ?? '',
      summary: item.description ?? '',
      content: item.content ?? '',
      tags: item.categories.map((category) => category.label ?? category.term ?? ''),
      published: item.published?.toISOString() ?? '',
      updated: item.updated?.toISOString() ?? '',
      author: item.authors[0]?.name ?? '',
    })),
  };
}

const FEEDPARSER_SCRIPT = `
import json, sys, calendar, datetime, html, re
import feedparser
def shown(detail):
    # What a reader displays: HTML-typed text is rendered, so entities show as characters.
    if not detail: return ''
    value = detail.get('value', '')
    return html.unescape(re.sub(r'<[^>]+>', '', value)) if detail.get('type') == 'text/html' else value
d = feedparser.parse(sys.argv[1])
def iso(t):
    return datetime.datetime.fromtimestamp(calendar.timegm(t), datetime.timezone.utc).isoformat().replace('+00:00', '.000Z') if t else ''
print(json.dumps({
  'bozo': bool(d.bozo), 'bozo_exception': str(d.get('bozo_exception', '')), 'version': d.version,
  'title': d.feed.get('title', ''), 'language': d.feed.get('language', ''),
  'updated': iso(d.feed.get('updated_parsed')),
  'links': [{'rel': l.get('rel', ''), 'href': l.get('href', '')} for l in d.feed.get('links', [])],
  'history': 'complete' if 'fh_complete' in d.feed else 'archive' if 'fh_archive' in d.feed else '',
  'image': (d.feed.get('image') or {}).get('href', ''), 'icon': d.feed.get('icon', ''), 'logo': d.feed.get('logo', ''),
  'entries': [{
    'id': e.get('id', ''), 'title': e.get('title', ''), 'link': e.get('link', ''),
    'summary': shown(e.get('summary_detail')), 'content': (e.get('content') or [{}])[0].get('value', ''),
    'contentBase': (e.get('content') or [{}])[0].get('base', ''),
    'image': (e.get('media_thumbnail') or [{}])[0].get('url', ''),
    'tags': [t.term for t in e.get('tags', [])], 'author': e.get('author', ''),
    'published': iso(e.get('published_parsed')), 'updated': iso(e.get('updated_parsed')),
  } for e in d.entries]}))
`;

/** What feedparser reads of a whole document besides its entries. */
export interface PythonFeed extends ReadFeed {
  bozo: boolean;
  bozo_exception: string;
  version: string;
  language: string;
  /** The feed's own updated time, ISO; '' when it has none. */
  updated: string;
  links: { rel: string; href: string }[];
  /** RFC 5005: fh:complete or fh:archive. */
  history: 'complete' | 'archive' | '';
  /** RSS <image>'s URL; Atom's icon and logo. */
  image: string;
  icon: string;
  logo: string;
  entries: (ReadEntry & { contentBase: string; image: string })[];
}

/** Parses a feed file with Python's feedparser, the library behind many feed readers (Debian python3-feedparser). */
export function readWithPythonFeedparser(path: string): PythonFeed {
  const output = execFileSync('/usr/bin/python3', ['-c', FEEDPARSER_SCRIPT, path], { encoding: 'utf8' });
  return JSON.parse(output);
}

/** xmllint --noout: the file is well-formed XML. Throws with xmllint's message otherwise. */
export function assertWellFormedXml(path: string): void {
  execFileSync('xmllint', ['--noout', path], { stdio: ['ignore', 'ignore', 'pipe'] });
}
