import type { Liquid, Template } from 'liquidjs';
import type { Config } from '../config.js';
import type { PostMeta } from '../posts/parse.js';
import type { RenderedPost } from '../posts/render.js';
import { liquid, parseTemplate, templateDates, templatePath, templateSite } from '../templates.js';
import { escapeHtml } from '../text.js';

export interface PageTemplates {
  index: Template[];
  post: Template[];
  engine: Liquid;
}

export function loadPageTemplates(config: Config, cwd: string): PageTemplates {
  const engine = liquid(config, true);
  return { index: parseTemplate(engine, templatePath(config, 'index.html'), cwd), post: parseTemplate(engine, templatePath(config, 'post.html'), cwd), engine };
}

const pageFields = (post: PostMeta, config: Config) => ({
  title: post.title,
  url: post.url,
  ...templateDates(post.date, config),
  summary: post.summary ?? '',
  topics: post.topics.map((topic) => topic.name),
  authors: post.authors,
  image: post.image,
});

/** The archive: every published post, newest first. */
export function renderIndexPage(posts: PostMeta[], templates: PageTemplates, config: Config): string {
  return templates.engine.renderSync(templates.index, { site: templateSite(config), posts: posts.map((post) => pageFields(post, config)) });
}

export function renderPostPage(post: RenderedPost, templates: PageTemplates, config: Config): string {
  return templates.engine.renderSync(templates.post, { site: templateSite(config), post: { ...pageFields(post.meta, config), summary: post.summary, html: post.html } });
}

/**
 * A page at an old address of a post (Hugo's aliases, jekyll-redirect-from's redirect_from): it
 * sends browsers on at once and tells search engines where the post lives now.
 */
export function renderRedirectPage(to: string): string {
  const url = escapeHtml(to);
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Moved</title>
<link rel="canonical" href="${url}">
<meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0; url=${url}">
</head>
<body>
<p>This page has moved to <a href="${url}">${url}</a>.</p>
</body>
</html>
`;
}
