import { join } from 'node:path';
import type { Liquid, Template } from 'liquidjs';
import type { Config } from '../config.js';
import type { PostMeta } from '../posts/parse.js';
import type { RenderedPost } from '../posts/render.js';
import { liquid, parseTemplate, templateDates, templatePath, templateSite } from '../templates.js';

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
});

/** The archive: every published post, newest first. */
export function renderIndexPage(posts: PostMeta[], templates: PageTemplates, config: Config): string {
  return templates.engine.renderSync(templates.index, { site: templateSite(config), posts: posts.map((post) => pageFields(post, config)) });
}

export function renderPostPage(post: RenderedPost, templates: PageTemplates, config: Config): string {
  return templates.engine.renderSync(templates.post, { site: templateSite(config), post: { ...pageFields(post.meta, config), summary: post.summary, html: post.html } });
}

/**
 * Where a page for `url` lives in the output folder: /slug/ is slug/index.html, /slug.html is
 * itself, and /slug (a permalink without a trailing slash) is slug.html, which herald start, GitHub
 * Pages and Netlify all serve at /slug as HTML.
 */
export function pagePath(config: Config, url: string): string {
  const path = decodeURIComponent(url.slice(config.site.url.length).replace(/[?#].*$/, ''));
  if (path.endsWith('/') || path === '') return join(config.paths.output, `${path}index.html`);
  return join(config.paths.output, /\.html?$/i.test(path) ? path : `${path}.html`);
}
