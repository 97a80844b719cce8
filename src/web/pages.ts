import type { Config } from '../config.js';
import { escapeHtml } from '../text.js';

/** A small self-contained page (no scripts, inline CSS allowed by the CSP's style-src). */
export function page(config: Config, title: string, body: string): string {
  const site = escapeHtml(config.site.title);
  return `<!doctype html>
<html lang="${escapeHtml(config.site.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${site}</title>
<link rel="alternate" type="application/rss+xml" title="${site}" href="/rss.xml">
<link rel="alternate" type="application/atom+xml" title="${site}" href="/atom.xml">
<link rel="alternate" type="application/feed+json" title="${site}" href="/feed.json">
<style>
body { font: 17px/1.6 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
a { color: #0b62d6; } button { font: inherit; padding: .5rem 1.2rem; border-radius: 6px; border: 1px solid #0b62d6; background: #0b62d6; color: #fff; cursor: pointer; }
input { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; margin: .2rem 0 .8rem; }
</style>
</head>
<body>
<p><a href="/">${site}</a></p>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
