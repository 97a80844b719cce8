import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { hash, templatesStamp } from '../cache.js';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { feedDir, SITE_FILES } from '../layout.js';
import { ENCODINGS, removeOutput, writeOutput } from '../output.js';
import { postFileStamps, type CachedPost } from '../posts/load.js';
import type { PostMeta, Topic } from '../posts/parse.js';
import { renderPost, type RenderedPost } from '../posts/render.js';
import { fromStatic } from './assets.js';
import { paginate, type ListingPage } from './listing.js';
import { pagePath } from './paths.js';
import { ownTemplatesMention, writersTemplate } from '../templates.js';
import { loadPageTemplates, pageContext, type ShownTopic, renderListingPage, renderPostPage, renderRedirectPage, renderTopicsPage, TOPICS_INDEX, topicsIndexUrl } from './render.js';
import { renderRobots, renderSitemaps, type SitemapEntry } from './sitemap.js';

export interface WrittenPages {
  written: string[];
  /** Each file herald made, with a fingerprint of what it was made from ('' for one made every build). */
  pages: Record<string, string>;
  /** What the rendered posts would show readers raw. */
  warnings: Problem[];
}

export interface PagesInput {
  /** The site's topics as its feeds name them. */
  topics: readonly Topic[];
  /** Each post file's size and mtime as this build read it. */
  stamps: ReadonlyMap<string, CachedPost>;
  /** The files the last build made, with their fingerprints (BuildState.pages). */
  previous: Record<string, string>;
  /** The files in `previous` are known to be there (herald start made them): no file is looked at. */
  previousOnDisk?: boolean;
  /** The files just copied from static folders into output, by path (CopiedFiles.copies). */
  staticCopies?: Readonly<Record<string, string>>;
}

/** A page to make: its file, and how to render it. */
interface Job {
  path: string;
  render(): string;
}

/** The pages a build makes, planned before the feeds are written so post pages can be made with them. */
export interface PagesPlan {
  /**
   * Makes this post's page now, if it is to be made, from its body as the feeds stage just
   * rendered it: each post is rendered once for both (the feeds stage drops its render once the
   * last document showing the post is written, so the page cannot wait for the pages stage).
   * Returns the page's write, if there is one, for the caller to bound how many are in flight;
   * its failure fails finish().
   */
  withRendered(post: PostMeta, rendered: RenderedPost): Promise<void> | undefined;
  /** Makes every other page, then removes the pages no longer wanted. */
  finish(): Promise<WrittenPages>;
}

const newest = (posts: PostMeta[]) => (posts.length ? posts.reduce((latest, post) => Math.max(latest, post.updated), -Infinity) : undefined);

/**
 * The static archive: the site's listing (index.html, page/2/...), a page at each post's
 * permalink, a listing per topic (topics/<slug>/) and the topics index, redirects at old
 * addresses, sitemap.xml and robots.txt. `published` is newest first. A page is made again only
 * when what it shows or the templates changed; pages no longer wanted (a post unpublished, a
 * listing that shrank) are removed.
 */
export async function writePages(published: PostMeta[], config: Config, cwd: string, input: PagesInput): Promise<WrittenPages> {
  return planPages(published, config, cwd, input).finish();
}

/** writePages in two steps (see PagesPlan); the build makes post pages while it writes the feeds. */
export function planPages(published: PostMeta[], config: Config, cwd: string, { topics, stamps, previous, previousOnDisk = false, staticCopies = {} }: PagesInput): PagesPlan {
  const templates = loadPageTemplates(config, cwd);
  const result: WrittenPages = { written: [], pages: {}, warnings: [] };
  const postsByTopic = new Map<string, PostMeta[]>();
  for (const post of published) {
    for (const { slug } of post.topics) {
      const posts = postsByTopic.get(slug);
      if (posts) posts.push(post);
      else postsByTopic.set(slug, [post]);
    }
  }
  const names = new Map(topics.map((topic) => [topic.slug, topic.name]));
  const context = pageContext(config, postsByTopic.size > 0);
  // Only topics with a published post have pages; the feed of a topic that lost them all stays.
  const shown = [...postsByTopic]
    .map(([slug, posts]) => {
      const name = names.get(slug) ?? posts[0]!.topics.find((topic) => topic.slug === slug)!.name;
      return { topic: { ...context.topicLink({ name, slug }), post_count: posts.length }, posts };
    })
    .sort((a, b) => a.topic.slug.localeCompare(b.topic.slug));

  const stamp = hash([templatesStamp(config), context.site]);
  // What a post's listing entry and page are made from: its address and its file as it is now.
  const fileStamp = postFileStamps(cwd, stamps);
  const postStamps = new Map(published.map((post) => [post, `${post.url}\0${fileStamp(post)}`]));
  const postStamp = (post: PostMeta) => postStamps.get(post)!;
  const jobs: Job[] = [];
  /** The post pages to make, by post: made early by withRendered, or with the other jobs. */
  const postJobs = new Map<PostMeta, Job>();
  const sitemap: SitemapEntry[] = [];
  // A page whose fingerprint is as the last build left it, and whose file is there (or known to be), is not made again.
  // Returns the job, when there is one.
  // The writer's own file from a static folder is published where herald would make a page, as
  // their robots.txt is: whichever build runs, fresh or not (the copies are made first).
  const add = (path: string, fingerprint: string, render: () => string): Job | undefined => {
    if (path in staticCopies) return undefined;
    result.pages[path] = fingerprint;
    if (fingerprint && previous[path] === fingerprint && (previousOnDisk || existsSync(path))) return undefined;
    const job = { path, render };
    jobs.push(job);
    return job;
  };

  // A new post changes the first page of each listing it is on, and the others only when the
  // first gives up a page (paginate()). herald's templates show a listing's post count on its
  // first page only; a writer's own that name it may show it on each.
  const countsOnEveryPage = ownTemplatesMention(config, /\b(total_posts|post_count)\b/);
  const listing = (page: ListingPage<PostMeta>, topic?: ShownTopic) => {
    sitemap.push({ url: page.paginator.url, updated: newest(page.posts) });
    const counted = page.paginator.page === 1 || countsOnEveryPage;
    const shows = counted ? [topic, page.paginator] : [topic && { ...topic, post_count: undefined }, { ...page.paginator, total_posts: undefined }];
    add(page.path, hash([stamp, ...shows, page.posts.map(postStamp)]), () => renderListingPage(page.posts, page.paginator, templates, context, topic));
  };
  for (const page of paginate(published, '', config, unpaginatedIndex(config) ? Infinity : undefined)) listing(page);
  if (shown.length) {
    const list = shown.map(({ topic }) => topic);
    sitemap.push({ url: topicsIndexUrl(config), updated: newest(published.filter((post) => post.topics.length)) });
    add(join(config.paths.output, TOPICS_INDEX), hash([stamp, list]), () => renderTopicsPage(list, templates, context));
  }
  for (const { topic, posts } of shown) for (const page of paginate(posts, feedDir(topic.slug), config)) listing(page, topic);
  for (const post of published) {
    sitemap.push({ url: post.url, updated: post.updated });
    const job = add(pagePath(config, post.url), hash([stamp, postStamp(post)]), () => {
      const rendered = renderPost(post, config, cwd);
      result.warnings.push(...rendered.warnings);
      return renderPostPage(rendered, templates, context);
    });
    if (job) postJobs.set(post, job);
  }
  // Old addresses of posts keep working: a redirect page at each, unless a page lives there now.
  // Redirects are not in the sitemap: search engines are to index the post at its own address.
  for (const post of published) {
    for (const alias of post.aliases) {
      // An alias is a path from the host's root, the site's own path (Jekyll's baseurl) included.
      const path = pagePath(config, new URL(alias, config.site.url).href);
      if (path in result.pages) {
        result.warnings.push({ code: 'E_POST_FIELD', file: post.file, field: 'aliases', message: `the old address ${alias} is where another page lives now, so it does not lead to this post`, hint: 'remove it from aliases (or redirect_from)' });
        continue;
      }
      add(path, '', () => renderRedirectPage(post.url));
    }
  }
  // The writer's own sitemap.xml or robots.txt in a static folder is published instead of herald's.
  const own = (name: string) => fromStatic(config, join(config.paths.output, name));
  if (!own(SITE_FILES.sitemap)) for (const file of renderSitemaps(sitemap, config.site.url)) add(join(config.paths.output, file.path), '', () => file.text);
  if (!own(SITE_FILES.robots)) add(join(config.paths.output, SITE_FILES.robots), '', () => renderRobots(config.site.url));
  // Every fingerprint is made: the plan lives through the whole build, and its stamps need not.
  postStamps.clear();

  // Not async, so as not to hold the text while the write is waited for (see writeOutput).
  const write = (job: Job, text: string) =>
    writeOutput(job.path, text).then((changed) => {
      if (changed) result.written.push(relative(cwd, job.path));
    });
  // Pages made early; a failed write fails finish().
  const early: Promise<void>[] = [];
  const done = new Set<Job>();
  return {
    withRendered(post, rendered) {
      const job = postJobs.get(post);
      if (!job || done.has(job)) return undefined;
      done.add(job);
      // Its warnings are the feeds stage's to report: it rendered the post.
      const written = write(job, renderPostPage(rendered, templates, context));
      written.catch(() => {});
      early.push(written);
      return written;
    },
    async finish() {
      // Rendering is synchronous; the writes (and their compressed copies) go to the writer thread
      // (output.ts), a few dozen at a time.
      const rest = jobs.filter((job) => !done.has(job));
      let next = 0;
      const worker = async () => {
        while (next < rest.length) {
          const job = rest[next++]!;
          await write(job, job.render());
        }
      };
      await Promise.all([...early, ...Array.from({ length: 32 }, worker)]);

      for (const path of Object.keys(previous)) {
        if (path in result.pages) continue;
        // A file the writer now publishes from a static folder is theirs (copied before the pages
        // are made): only herald's compressed copies of its own version go.
        if (fromStatic(config, path)) await Promise.all(ENCODINGS.map(({ suffix }) => rm(path + suffix, { force: true })));
        else await removeOutput(path, config.paths.output);
      }
      return result;
    },
  };
}

/**
 * A writer's own index.html from before the index had pages never links to page 2: it keeps
 * getting every post on one page, as it did, so no post drops out of its reach.
 */
function unpaginatedIndex(config: Config): boolean {
  const own = writersTemplate(config, 'index.html');
  return own !== undefined && !readFileSync(own, 'utf8').includes('paginator');
}
