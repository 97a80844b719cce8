import type { Config } from '../config.js';
import type { FeedSpec } from './model.js';
import { xmlText } from './xml.js';

/**
 * feeds.opml (OPML 2.0): the site's feed and each topic's, for importing them into a reader at
 * once. RSS is what every reader imports. A topic with no posts left is not offered. No dates,
 * so the file changes only when the list does.
 */
export function renderOpml(feeds: readonly FeedSpec[], config: Config): string {
  const outlines = feeds
    .filter((feed) => !feed.topic || feed.posts.length)
    .map((feed) => {
      const title = xmlText(feed.title);
      return `    <outline type="rss" text="${title}" title="${title}" xmlUrl="${xmlText(feed.links.rss)}" htmlUrl="${xmlText(feed.homeUrl)}"/>\n`;
    });
  return `<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head>
    <title>${xmlText(`${config.site.title}: feeds`)}</title>
    <docs>http://opml.org/spec2.opml</docs>
  </head>
  <body>
${outlines.join('')}  </body>
</opml>
`;
}
