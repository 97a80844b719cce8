import { readdirSync, readFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { hash, isIntact, postIncludesStamp, writtenStamp, type OutputStamp } from '../cache.js';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { ARCHIVE_DIR, SITE_FILES } from '../layout.js';
import { removeOutput, writeOutput } from '../output.js';
import { postFileStamps } from '../posts/load.js';
import type { PostMeta } from '../posts/parse.js';
import { renderPost, type RenderedPost } from '../posts/render.js';
import { archiveCount, feedDocuments, type FeedDocument } from './archives.js';
import { renderAtom, renderAtomEntry } from './atom.js';
import { documentUpdated, type FeedRecord } from './dates.js';
import { renderJsonFeed, renderJsonItem } from './json.js';
import type { FeedAuthor, FeedEntry, FeedSpec } from './model.js';
import { renderOpml } from './opml.js';
import { renderRss } from './rss.js';

const FORMATS = ['rss', 'atom', 'json'] as const;

/**
 * Writes in flight at once (a document's three files, or a post's page): enough to keep the writer
 * thread busy, few enough to bound memory. Without a bound, post pages rendered faster than the
 * thread writes them queued up in it: 1.3 GB at 50,000 posts.
 */
const WRITES_IN_FLIGHT = 16;

export interface FeedsInput {
  now: Date;
  /** Each post file's size and mtime as this build read it, by absolute path: an entry is what its file and id make it. */
  stamps: ReadonlyMap<string, { size: number; mtimeMs: number }>;
  /** What the last build recorded: its feed documents and output files. */
  previous?: { feeds: Record<string, FeedRecord>; outputs: Record<string, OutputStamp> };
  /** Every file in previous.outputs was just found as recorded (herald start looks before each build): none is looked at again. */
  previousOnDisk?: boolean;
  /**
   * Told of each post as it is rendered (the pages stage makes its page then: PagesPlan); a write
   * it returns counts among this stage's writes in flight. Its failure is the pages stage's to report.
   */
  rendered?: (post: PostMeta, rendered: RenderedPost) => Promise<unknown> | undefined;
}

export interface WrittenFeeds {
  /** Files whose bytes changed, relative to the working directory. */
  written: string[];
  unchanged: number;
  outputs: Record<string, OutputStamp>;
  /** Each feed document's record, for the build state. */
  records: Record<string, FeedRecord>;
  /** What the rendered posts would show readers raw. */
  warnings: Problem[];
}

/**
 * A post rendered for the feeds: its body once, and its Atom and JSON entries once. The rss
 * package writes each RSS document whole from the rendered body: a few tenths of a second of
 * CPU for the 25,000 items in a 10,000-post site's documents.
 */
interface Entry {
  rendered: FeedEntry;
  atom: string;
  json?: string;
  /** What readers see of the entry. */
  digest: string;
}

/**
 * Writes every document of every feed (the subscription feeds and their RFC 5005 archives) in
 * each format, and feeds.opml; removes archives that no longer exist. A document whose posts,
 * links and files are as the last build left them is not made again, so one new post costs the
 * feeds it appears in, not the archives. Each post is rendered at most once.
 */
export async function writeFeeds(feeds: FeedSpec[], config: Config, cwd: string, input: FeedsInput): Promise<WrittenFeeds> {
  const output = config.paths.output;
  const files = config.feed.paths;
  const previous = { feeds: input.previous?.feeds ?? {}, outputs: input.previous?.outputs ?? {} };
  const result: WrittenFeeds = { written: [], unchanged: 0, outputs: {}, records: {}, warnings: [] };
  // The build state's key covers the rest of the config; these change how a post renders or what
  // a feed links to without changing a post file.
  const salt = hash([config.pages, { ...config.posts, ignoredTopics: [...config.posts.ignoredTopics] }, postIncludesStamp(config)]);
  // Worked out once per post, however many documents show it, while the documents to write are
  // found; dropped before they are written (7 MB at 50,000 posts).
  const postStamps = new Map<PostMeta, string>();
  const fileStamp = postFileStamps(cwd, input.stamps);
  const postStamp = (post: PostMeta) => {
    let stamp = postStamps.get(post);
    if (stamp === undefined) postStamps.set(post, (stamp = `${post.entryId}\0${fileStamp(post)}`));
    return stamp;
  };

  const todo: { doc: FeedDocument; made: string; paths: string[]; watched: string[] }[] = [];
  for (const feed of feeds) {
    for (const doc of feedDocuments(feed, config.feed.limit, files)) {
      const paths = FORMATS.map((format) => join(output, doc.dir, files[format]));
      // What tells whether a document is as written: the subscription feed's files; an archive's
      // folder, whose mtime moves whenever a file in it is added, replaced or removed (so a build
      // that changed nothing stats a folder per archive, not each file and its compressed copies).
      const watched = doc.page ? [...new Set(paths.map((path) => dirname(path)))] : paths;
      // Its links to the archives beside it by address: the archives are counted from the oldest
      // post, so removing old posts moves the newest archive a document links to.
      // Its title and description too: a topic's feed is named as its newest post spells the topic.
      const made = hash([salt, doc.page, doc.feed.title, doc.feed.description, doc.history ?? '', doc.prev?.rss ?? '', doc.next?.rss ?? '', doc.posts.map(postStamp)]);
      const record = previous.feeds[doc.dir];
      if (record?.made === made && watched.every((path) => (input.previousOnDisk && path in previous.outputs) || isIntact(path, previous.outputs[path]))) {
        result.records[doc.dir] = record;
        for (const path of watched) result.outputs[path] = previous.outputs[path]!;
        result.unchanged += paths.length;
      } else {
        todo.push({ doc, made, paths, watched });
      }
    }
  }
  postStamps.clear();

  // Oldest documents first: a post's entry is dropped once the last document showing it is
  // written, so only the posts of a stretch of time are held at once, not the whole site.
  const newest = (doc: FeedDocument) => doc.posts[0]?.date ?? -Infinity;
  todo.sort((a, b) => newest(a.doc) - newest(b.doc));
  // How many documents still to be written show each post: its entry is kept until then.
  const uses = new Map<string, number>();
  for (const { doc } of todo) for (const post of doc.posts) uses.set(post.file, (uses.get(post.file) ?? 0) + 1);
  const writing = new Set<Promise<unknown>>();
  const inFlight = (write: Promise<unknown>) => {
    const settled = write.finally(() => writing.delete(settled));
    writing.add(settled);
  };
  const entries = new Map<string, Entry>();
  const entryOf = (post: PostMeta, author: FeedAuthor): Entry => {
    let entry = entries.get(post.file);
    if (!entry) {
      const rendered = renderPost(post, config, cwd);
      result.warnings.push(...rendered.warnings);
      const page = input.rendered?.(post, rendered);
      if (page) inFlight(page.catch(() => {}));
      const atom = renderAtomEntry(rendered, author);
      entry = { rendered, atom, digest: hash(atom) };
      entries.set(post.file, entry);
    }
    return entry;
  };

  // A failed write stops the stage once the writes already started have settled.
  let failure: { error: unknown } | undefined;
  for (const { doc, made, paths, watched } of todo) {
    if (failure) break;
    const author = doc.feed.author;
    const shown = doc.posts.map((post) => entryOf(post, author));
    const shows = hash(shown.map((entry) => entry.digest));
    const latest = doc.posts.length ? doc.posts.reduce((time, post) => Math.max(time, post.updated), -Infinity) : undefined;
    const record = previous.feeds[doc.dir];
    const updated = documentUpdated(record, shows, latest, input.now.getTime(), record ? undefined : publishedUpdated(paths[FORMATS.indexOf('atom')]!));
    result.records[doc.dir] = { made, shows, updated };
    // Archive documents get no compressed copies: a reader app fetches each once and keeps it, and
    // their copies were most of a large site's first build (14 s of 46 at 10,000 posts).
    // The texts go from rendering straight to the writer, never into a local (see writeOutput).
    const written = writeTexts(
      paths,
      [
        renderRss(doc, shown.map((entry) => entry.rendered), new Date(updated)),
        renderAtom(doc, shown.map((entry) => entry.atom), new Date(updated)),
        renderJsonFeed(doc, shown.map((entry) => (entry.json ??= renderJsonItem(entry.rendered, author)))),
      ],
      result,
      { compress: doc.page === 0 },
    );
    for (const post of doc.posts) {
      const left = uses.get(post.file)! - 1;
      if (left) uses.set(post.file, left);
      else entries.delete(post.file);
    }
    inFlight(
      written.then(
        () => {
          for (const path of watched) result.outputs[path] = writtenStamp(path);
        },
        (error: unknown) => {
          failure ??= { error };
        },
      ),
    );
    while (writing.size >= WRITES_IN_FLIGHT) await Promise.race(writing);
  }
  await Promise.all(writing);
  if (failure) throw failure.error;

  const opml = join(output, SITE_FILES.opml);
  await writeFile(opml, renderOpml(feeds, config), result);
  result.outputs[opml] = writtenStamp(opml);
  await removeVanishedArchives(feeds, config);
  // Written in whatever order the disk finished them; reported in a stable one.
  result.written = result.written.map((path) => relative(cwd, path)).sort();
  return result;
}

function writeTexts(paths: readonly string[], texts: readonly string[], result: WrittenFeeds, options: { compress: boolean }): Promise<void[]> {
  return Promise.all(paths.map((path, i) => writeFile(path, texts[i]!, result, options)));
}

// Not async, so as not to hold the text while the write is waited for (see writeOutput).
function writeFile(path: string, text: string, result: WrittenFeeds, options?: { compress: boolean }): Promise<void> {
  return writeOutput(path, text, options).then((changed) => {
    if (changed) result.written.push(path);
    else result.unchanged++;
  });
}

// Archive pages past a feed's last (posts were removed, or the feed was emptied) go, with the
// folders they leave empty. The folders are listed rather than recalled, so this holds after the
// build state was lost too.
async function removeVanishedArchives(feeds: FeedSpec[], config: Config): Promise<void> {
  for (const feed of feeds) {
    const root = join(config.paths.output, feed.dir, ARCHIVE_DIR);
    const count = archiveCount(feed.posts.length, config.feed.limit);
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!/^[1-9]\d*$/.test(name) || Number(name) <= count) continue;
      const folder = join(root, name);
      for (const format of FORMATS) {
        await removeOutput(join(folder, config.feed.paths[format]), root);
      }
    }
    await rmdir(root).catch(() => {});
  }
}

// The feed's own <updated> in the Atom document as published (the first one: entries come after),
// for a document the build state has no record of.
function publishedUpdated(atomPath: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(atomPath, 'utf8');
  } catch {
    return undefined;
  }
  const time = Date.parse(/<updated>([^<]*)<\/updated>/.exec(text)?.[1] ?? '');
  return Number.isNaN(time) ? undefined : time;
}

