import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { hash, readBuildCache, writeBuildCache, type OutputStamp } from './cache.js';
import type { Config } from './config.js';
import type { Problem } from './errors.js';
import { renderAtom } from './feeds/atom.js';
import { renderJsonFeed } from './feeds/json.js';
import { FEED_FILES, selectFeeds, type FeedEntry, type FeedSpec } from './feeds/model.js';
import { renderRss } from './feeds/rss.js';
import { writeIfChanged } from './files.js';
import { loadPosts, readPostBody } from './posts/load.js';
import { renderMarkdown, summarize } from './posts/markdown.js';
import type { PostMeta } from './posts/parse.js';

export type PostState = 'draft' | 'scheduled' | 'published';

export function postState(post: PostMeta, now: Date): PostState {
  if (post.draft) return 'draft';
  return post.date > now.getTime() ? 'scheduled' : 'published';
}

export interface BuildOptions {
  now: Date;
  cwd: string;
  /** False for `herald check`: read and validate everything, write nothing. */
  write: boolean;
}

export interface BuildReport {
  /** Every valid post, drafts and scheduled ones included. */
  posts: PostMeta[];
  published: PostMeta[];
  problems: Problem[];
  /** Output files whose bytes changed, as paths relative to the working directory. */
  written: string[];
  unchanged: number;
}

const RENDERERS = [
  [FEED_FILES.rss, renderRss],
  [FEED_FILES.atom, renderAtom],
  [FEED_FILES.json, renderJsonFeed],
] as const;

/** posts -> published -> feeds: the whole build pipeline. */
export async function build(config: Config, options: BuildOptions): Promise<BuildReport> {
  const { now, cwd } = options;
  const cache = readBuildCache(config, cwd);
  const loaded = loadPosts(config, cwd, cache.posts);
  const published = loaded.posts.filter((post) => postState(post, now) === 'published');
  const feeds = selectFeeds(published, config, cache.topics);
  const report: BuildReport = { posts: loaded.posts, published, problems: loaded.problems, written: [], unchanged: 0 };
  if (!options.write) {
    // Rendering is what check validates here: a post that breaks the renderer must show up.
    renderEntries(feeds, config, cwd);
    return report;
  }

  const fingerprint = hash(feeds.map((feed) => [feed.dir, feed.posts.map((post) => [post.file, loaded.cache.get(resolve(cwd, post.file))])]));
  const outputs = feeds.flatMap((feed) => RENDERERS.map(([name]) => join(config.paths.output, feed.dir, name)));
  const upToDate = fingerprint === cache.feedsFingerprint && outputs.every((path) => sameStamp(stampOf(path), cache.outputs[path]));
  const stamps: Record<string, OutputStamp> = {};
  if (upToDate) {
    report.unchanged = outputs.length;
    Object.assign(stamps, cache.outputs);
  } else {
    const entries = renderEntries(feeds, config, cwd);
    for (const feed of feeds) {
      for (const [name, render] of RENDERERS) {
        const path = join(config.paths.output, feed.dir, name);
        if (await writeIfChanged(path, render(feed, entries))) report.written.push(relative(cwd, path));
        else report.unchanged++;
        stamps[path] = stampOf(path)!;
      }
    }
  }

  if (loaded.parsed || !upToDate || loaded.cache.size !== cache.posts.size) {
    await writeBuildCache(config, cwd, {
      posts: loaded.cache,
      feedsFingerprint: fingerprint,
      topics: feeds.flatMap((feed) => (feed.topic ? [feed.topic] : [])),
      outputs: stamps,
    });
  }
  return report;
}

// Each post is rendered once, however many feeds it appears in.
function renderEntries(feeds: FeedSpec[], config: Config, cwd: string): Map<string, FeedEntry> {
  const entries = new Map<string, FeedEntry>();
  for (const post of feeds.flatMap((feed) => feed.posts)) {
    if (entries.has(post.file)) continue;
    const rendered = renderMarkdown(readPostBody(resolve(cwd, post.file), config, post.file), post.url);
    entries.set(post.file, { meta: post, html: rendered.html, summary: post.summary ?? summarize(rendered.firstParagraph) });
  }
  return entries;
}

function stampOf(path: string): OutputStamp | undefined {
  try {
    const stat = statSync(path);
    return { size: stat.size, mtimeMs: stat.mtimeMs };
  } catch {
    return undefined;
  }
}

function sameStamp(a: OutputStamp | undefined, b: OutputStamp | undefined): boolean {
  return !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs;
}
