// The XML that herald writes as text: Atom (each entry rendered once, its text reused in every
// document that shows it) and OPML; and what RSS, which the rss package writes, shares with Atom.
import { escapeHtml } from '../text.js';

/** Text or an attribute value in XML (escapeHtml's entities are all XML's own or numeric). */
export const xmlText = escapeHtml;

/** HTML carried as text, readable in the file as it is; `]]>` inside is split across two sections. */
export function cdata(text: string): string {
  return `<![CDATA[${text.includes(']]>') ? text.replace(/\]\]>/g, ']]]]><![CDATA[>') : text}]]>`;
}

/** The XML declaration and the stylesheet a browser shows the feed with (the reader apps ignore it). */
export function xmlProlog(stylesheet: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<?xml-stylesheet type="text/xsl" href="${xmlText(stylesheet)}"?>\n`;
}

/** RFC 5005's namespace: fh:complete and fh:archive. */
export const HISTORY_NS = 'http://purl.org/syndication/history/1.0';
/** Media RSS, for a post's image: what feed readers look for (jekyll-feed writes it too). */
export const MEDIA_NS = 'http://search.yahoo.com/mrss/';
