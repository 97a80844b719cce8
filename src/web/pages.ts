import type { Config } from '../config.js';
import { liquid, parseTemplate, templatePath, templateSite } from '../templates.js';
import { escapeHtml } from '../text.js';

/** What every one of herald's own small pages shares: the site, and its feed links. */
export interface PageShell {
  config: Config;
  /** The partial the archive pages include (the writer's _feed-links.html, else herald's), rendered once. */
  feedLinks: string;
}

export function pageShell(config: Config, cwd: string): PageShell {
  const engine = liquid(config, true);
  const template = parseTemplate(engine, templatePath(config, '_feed-links.html'), cwd);
  return { config, feedLinks: engine.renderSync(template, { site: templateSite(config) }) };
}

/** A small self-contained page (no scripts, inline CSS allowed by the CSP's style-src). */
export function page({ config, feedLinks }: PageShell, title: string, body: string): string {
  const site = escapeHtml(config.site.title);
  return `<!doctype html>
<html lang="${escapeHtml(config.site.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${site}</title>
${feedLinks.trim()}
<style>
body { font: 17px/1.6 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
a { color: #0b62d6; } button { font: inherit; padding: .5rem 1.2rem; border-radius: 6px; border: 1px solid #0b62d6; background: #0b62d6; color: #fff; cursor: pointer; }
input { font: inherit; padding: .4rem; width: 100%; box-sizing: border-box; margin: .2rem 0 .8rem; }
</style>
</head>
<body>
<p><a href="${escapeHtml(config.site.url)}">${site}</a></p>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}
