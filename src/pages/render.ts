import type { Liquid, Template } from 'liquidjs';
import type { Config } from '../config.js';
import { feedDir, listingPage, TOPICS_DIR } from '../layout.js';
import type { PostMeta, Topic } from '../posts/parse.js';
import type { RenderedPost } from '../posts/render.js';
import { liquid, parseTemplate, templateDates, templatePath, templateSite } from '../templates.js';
import { escapeHtml } from '../text.js';
import type { Paginator } from './listing.js';
import { feedUrls, listingUrl } from './paths.js';

export interface PageTemplates {
  index: Template[];
  post: Template[];
  topic: Template[];
  topics: Template[];
  engine: Liquid;
}

export function loadPageTemplates(config: Config, cwd: string): PageTemplates {
  // A new engine for each build: its cache of partials never outlives a change to them.
  const engine = liquid(config, true, true);
  const parse = (name: string) => parseTemplate(engine, templatePath(config, name), cwd);
  return { index: parse('index.html'), post: parse('post.html'), topic: parse('topic.html'), topics: parse('topics.html'), engine };
}

/** A topic as templates see it: its page and its feeds. */
export interface TopicLink {
  name: string;
  slug: string;
  url: string;
  feeds: { rss: string; atom: string; json: string };
}

/** A topic on its own pages and in the topics index. */
export type ShownTopic = TopicLink & { post_count: number };

/**
 * What every page of one build shares, made once: the site as templates see it, topic URLs by
 * slug, and each post's fields (a post is shown on a listing page of the site's and of each of
 * its topics', and on its own page).
 */
export interface PageContext {
  config: Config;
  site: ReturnType<typeof templateSite> & { topics_url?: string };
  topicLink(topic: Topic): TopicLink;
  fields(post: PostMeta): PageFields;
}

/** `hasTopics`: the site has a topics index (topics/index.html) for pages to link to. */
export function pageContext(config: Config, hasTopics: boolean): PageContext {
  const bySlug = new Map<string, Omit<TopicLink, 'name'>>();
  const byPost = new Map<PostMeta, PageFields>();
  const context: PageContext = {
    config,
    site: { ...templateSite(config), ...(hasTopics ? { topics_url: topicsIndexUrl(config) } : {}) },
    topicLink: ({ name, slug }) => {
      let link = bySlug.get(slug);
      if (!link) bySlug.set(slug, (link = { slug, url: listingUrl(config, feedDir(slug), 1), feeds: feedUrls(config, feedDir(slug)) }));
      return { name, ...link };
    },
    fields: (post) => {
      let fields = byPost.get(post);
      if (!fields) byPost.set(post, (fields = pageFields(post, context)));
      return fields;
    },
  };
  return context;
}

export function topicsIndexUrl(config: Config): string {
  return listingUrl(config, `${TOPICS_DIR}/`, 1);
}

/** The topics index's file below output. */
export const TOPICS_INDEX = listingPage(`${TOPICS_DIR}/`, 1);

// `topics` stays a list of names, as writers' templates use it (`post.topics | join: ", "`);
// `topic_links` has each topic's page and feeds, under the post's own spelling of its name.
type PageFields = ReturnType<typeof pageFields>;

const pageFields = (post: PostMeta, context: PageContext) => ({
  title: post.title,
  url: post.url,
  ...templateDates(post.date, context.config),
  summary: post.summary ?? '',
  topics: post.topics.map((topic) => topic.name),
  topic_links: post.topics.map(context.topicLink),
  authors: post.authors,
  image: post.image,
});

/**
 * A page of a listing, newest first: the site's (index.html) or a topic's. The writer's own
 * index.html gets the page's posts as `posts`, and `paginator` to link the others.
 */
export function renderListingPage(posts: PostMeta[], paginator: Paginator, templates: PageTemplates, context: PageContext, topic?: ShownTopic): string {
  const fields = posts.map(context.fields);
  return templates.engine.renderSync(topic ? templates.topic : templates.index, { site: context.site, posts: fields, paginator: { ...paginator, posts: fields }, ...(topic ? { topic } : {}) });
}

/** topics/index.html: every topic with its post count, page and feeds. */
export function renderTopicsPage(topics: ShownTopic[], templates: PageTemplates, context: PageContext): string {
  return templates.engine.renderSync(templates.topics, { site: context.site, topics });
}

export function renderPostPage(post: RenderedPost, templates: PageTemplates, context: PageContext): string {
  return templates.engine.renderSync(templates.post, { site: context.site, post: { ...context.fields(post.meta), summary: post.summary, html: post.html } });
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
