import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { OutputStamp } from '../cache.js';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { writeIfChanged } from '../files.js';
import { renderPost } from '../posts/render.js';
import { renderAtom } from './atom.js';
import { renderJsonFeed } from './json.js';
import type { FeedEntry, FeedSpec } from './model.js';
import { renderRss } from './rss.js';

const RENDERERS = [
  ['rss', renderRss],
  ['atom', renderAtom],
  ['json', renderJsonFeed],
] as const;

export interface WrittenFeeds {
  /** Files whose bytes changed, relative to the working directory. */
  written: string[];
  unchanged: number;
  outputs: Record<string, OutputStamp>;
  /** What the rendered posts would show readers raw. */
  warnings: Problem[];
}

/** Renders every feed in every format and writes the files whose bytes changed. */
export async function writeFeeds(feeds: FeedSpec[], config: Config, cwd: string): Promise<WrittenFeeds> {
  const entries = renderEntries(feeds, config, cwd);
  const files = feeds.flatMap((feed) => RENDERERS.map(([format, render]) => ({ path: join(config.paths.output, feed.dir, config.feed.paths[format]), text: render(feed, entries) })));
  const changed = await Promise.all(files.map(({ path, text }) => writeIfChanged(path, text)));
  const result: WrittenFeeds = { written: [], unchanged: 0, outputs: {}, warnings: [...entries.values()].flatMap((entry) => entry.warnings) };
  files.forEach(({ path }, i) => {
    if (changed[i]) result.written.push(relative(cwd, path));
    else result.unchanged++;
    result.outputs[path] = stampOf(path)!;
  });
  return result;
}

// Each post is rendered once, however many feeds it appears in.
function renderEntries(feeds: FeedSpec[], config: Config, cwd: string): Map<string, FeedEntry> {
  const entries = new Map<string, FeedEntry>();
  for (const post of feeds.flatMap((feed) => feed.posts)) {
    if (!entries.has(post.file)) entries.set(post.file, renderPost(post, config, cwd));
  }
  return entries;
}

export function stampOf(path: string): OutputStamp | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat && { size: stat.size, mtimeMs: stat.mtimeMs };
}
