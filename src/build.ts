import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { hash, isIntact, writtenStamp, readBuildRecords, readBuildState, readPostCache, stampOfPosts, templatesStamp, writeBuildState, writePostCache, type BuildCheck, type BuildRecords, type OutputStamp, type PostCounts } from './cache.js';
import type { Config } from './config.js';
import type { Problem } from './errors.js';
import type { CachedPost } from './posts/load.js';
import type { PostMeta } from './posts/parse.js';
import { growHeapSlowly } from './heap.js';
import { assetsStamp, copyAssets } from './pages/assets.js';
import { BUNDLE_INDEX, rescanPostFiles, scanPostFiles, scanPostFolder, type PostScan } from './posts/scan.js';
import { topicClashes } from './posts/topics.js';
import type { HubPolicy, Notification } from './websub.js';

export type PostState = 'draft' | 'scheduled' | 'published';

export function postState(post: PostMeta, now: Date): PostState {
  if (post.draft) return 'draft';
  return post.date > now.getTime() ? 'scheduled' : 'published';
}

export function countStates(posts: PostMeta[], now: Date): PostCounts {
  const counts = { draft: 0, scheduled: 0, published: 0 };
  for (const post of posts) counts[postState(post, now)]++;
  return counts;
}

/** Every post as the build reads it (the post cache spares what did not change), with its recorded entry id. */
export async function readPosts(config: Config, cwd: string): Promise<import('./posts/load.js').LoadedPosts> {
  const [{ loadPosts }, { applyEntryIds, readEntryIds }] = await Promise.all([import('./posts/load.js'), import('./posts/ids.js')]);
  const loaded = await loadPosts(config, cwd, scanPostFiles(config.paths.posts, cwd, config.posts.exclude), readPostCache(config, cwd));
  applyEntryIds(loaded.posts, readEntryIds(config, cwd));
  return loaded;
}

export interface BuildOptions {
  now: Date;
  cwd: string;
  /** False for `herald check`: read and validate everything, write nothing. */
  write: boolean;
  /** How WebSub hubs are told of changed feeds (default: hubPolicy()). */
  hubs?: HubPolicy;
  /** What a long-running herald keeps from one build to the next (herald start). */
  memory?: BuildMemory;
}

/**
 * herald start's memory of its last build: the state it wrote and the posts it read, and a watch
 * on the folders a build reads. While the watch sees no change, a build need not look at every
 * post file, read the state back, or load the posts again: it checks only that the feeds are
 * still valid at this time and still on disk.
 */
export interface BuildMemory {
  watch: import('./watch.js').FolderWatch;
  /** A full look came since the last build with work to do: the next one looks at every page. */
  pagesToLookAt?: boolean;
  last?: {
    check: BuildCheck;
    /** The post files as the last build found them. */
    scan?: PostScan;
    posts: PostMeta[];
    records?: BuildRecords;
    postCache?: Map<string, CachedPost>;
    /** How many of postCache's entries the post cache on disk does not have yet. */
    unsavedPosts?: number;
    /** The entry ids recorded on disk, as the last build left them (posts/ids.ts). */
    entryIds?: import('./posts/ids.js').EntryIds;
  };
}

/** How many changed posts herald start may leave out of the post cache on disk (see build()). */
const UNSAVED_POSTS = 100;

/** The folders a build reads from: what a FolderWatch for BuildMemory watches. */
export function buildInputs(config: Config): string[] {
  return [config.paths.posts, config.paths.templates, config.paths.includes, ...config.paths.static.map(({ folder }) => folder)];
}

export interface BuildReport {
  counts: PostCounts;
  problems: Problem[];
  /** Published all the same, but worth the writer's eye (what readers would see raw, keys given twice). */
  warnings: Problem[];
  /** Output files whose bytes changed, relative to the working directory. */
  written: string[];
  unchanged: number;
  /** Every readable post, when this build had to load them (not when nothing changed), or had them in memory. */
  posts?: PostMeta[];
  /** WebSub hubs told (or not) of changed feeds, this build's and those an earlier one still owed. */
  notifications: Notification[];
}

/** posts -> published -> feeds -> files. The heavy stages load only when something changed. */
export async function build(config: Config, options: BuildOptions): Promise<BuildReport> {
  try {
    return await buildOnce(config, options);
  } catch (error) {
    // The failed build took what the watch had seen change: the next one looks at everything.
    if (options.memory) options.memory.last = undefined;
    throw error;
  }
}

async function buildOnce(config: Config, options: BuildOptions): Promise<BuildReport> {
  const { now, cwd, memory } = options;
  // Only a site with hubs loads WebSub. Its notices go out last, once the build is recorded, and
  // also when nothing changed: an earlier build may still owe some.
  const websub = options.write && config.feed.hubs.length ? await import('./websub.js') : undefined;
  const notify = async () => (websub ? websub.notifyHubs(config, options.hubs) : []);
  const nothingToDo = async (check: BuildCheck, posts?: PostMeta[]): Promise<BuildReport> => ({ counts: check.counts, problems: check.problems, warnings: check.warnings ?? [], written: [], unchanged: Object.keys(check.outputs).length, posts, notifications: await notify() });
  const remembered = memory?.last;
  if (options.write && remembered) {
    const changed = memory.watch.takeChanged();
    // The watch's full look has the next build with work to do look at every page it made.
    if (memory.watch.lastWasFullLook) memory.pagesToLookAt = true;
    // A post reached through a symbolic link may change where no watch sees it: the scan looks.
    if (!changed && !remembered.scan?.linked && isStillValid(remembered.check, now)) return nothingToDo(remembered.check, remembered.posts);
  }

  growHeapSlowly();
  // With a watch that named what changed since the last build (asked above), only those files are looked at.
  const changedPaths = options.write && remembered?.scan && memory?.watch.lastChangedPaths;
  const scan = (changedPaths && rescanPostFiles(remembered.scan!, changedPaths, config.paths.posts, config.posts.exclude)) || scanPostFolder(config.paths.posts, cwd, config.posts.exclude);
  const { files } = scan;
  const postsStamp = stampOfPosts(files);
  const bundles = files.filter((file) => BUNDLE_INDEX.test(basename(file.path))).map((file) => dirname(file.path));
  const assets = hash(assetsStamp(config, bundles));
  const check = readBuildState(config, cwd);
  if (options.write && check && isUpToDate(check, postsStamp, assets, now, config)) {
    if (!memory) return nothingToDo(check);
    // Read once per process: then a change costs no reading back of what the last build recorded.
    if (!isRemembered(remembered, check)) {
      const read = await readPosts(config, cwd);
      memory.last = { check, posts: read.posts, postCache: read.cache, records: readBuildRecords(config, cwd) };
    }
    memory.last!.scan = scan;
    return nothingToDo(check, memory.last!.posts);
  }
  // What the last build recorded, from memory when this process made it.
  const known = isRemembered(remembered, check) ? remembered : undefined;
  // The feeds this process made are looked at once: each document is not looked at again.
  const outputsOnDisk = known !== undefined && outputsIntact(known.check.outputs);
  const records = check && (known?.records ?? readBuildRecords(config, cwd));
  const previous = check && records && { ...check, ...records };

  const { loadPosts } = await import('./posts/load.js');
  const postCache = known?.postCache ?? readPostCache(config, cwd);
  // Reading starts first; the feed modules load while the first posts arrive.
  const [loaded, { selectFeeds, newestFirstOrder }, feedsStage, ids] = await Promise.all([
    loadPosts(config, cwd, files, postCache),
    import('./feeds/model.js'),
    import('./feeds/write.js'),
    import('./posts/ids.js'),
  ]);
  const published = loaded.posts.filter((post) => postState(post, now) === 'published');
  // A post's id is fixed when it is first published; check records nothing.
  const recorded = known?.entryIds ?? ids.readEntryIds(config, cwd);
  const entryIds = options.write ? await ids.recordEntryIds(config, published, recorded) : recorded;
  ids.applyEntryIds(loaded.posts, entryIds);
  const feeds = selectFeeds(published, config, previous?.topics);
  const report: BuildReport = { counts: countStates(loaded.posts, now), problems: loaded.problems, warnings: [...loaded.warnings, ...topicClashes(loaded.posts)], written: [], unchanged: 0, posts: loaded.posts, notifications: [] };
  if (!options.write) {
    // check renders every post, so a post that breaks the renderer, or holds what readers would
    // see raw, shows up before a real build.
    const { renderPost } = await import('./posts/render.js');
    for (const post of loaded.posts) report.warnings.push(...renderPost(post, config, cwd).warnings);
    // The page templates are read as a build reads them: a syntax error fails check, naming the file and line.
    if (config.pages) (await import('./pages/render.js')).loadPageTemplates(config, cwd);
    return report;
  }

  // Static files first: the pages stage leaves a path the writer publishes (their robots.txt) to them.
  const copied = await copyAssets(config, cwd, published, previous?.copies ?? {});
  // The pages this process made are taken to be on disk as it left them (one new post does not
  // look at every page file), except after the watch's full look, when a feed it made is gone too
  // (the output folder emptied by hand), or when a static file was removed (it may have been
  // where a page is now): then each page is looked at, and what is missing made again.
  const pagesOnDisk = outputsOnDisk && !memory!.pagesToLookAt && copied.removed === 0;

  // The stylesheet RSS and Atom name, which shows them to a browser as a page: the writer's
  // templates/feed.xsl, else herald's. Written only when its bytes changed.
  const [{ templatePath }, { writeOutput }, { SITE_FILES }] = await Promise.all([import('./templates.js'), import('./output.js'), import('./layout.js')]);
  const stylesheet = join(config.paths.output, SITE_FILES.stylesheet);
  const stylesheetWritten = await writeOutput(stylesheet, await readFile(templatePath(config, SITE_FILES.stylesheet), 'utf8'));

  // The pages are planned first, so each post's page is made when the feeds render the post.
  const topics = feeds.flatMap((feed) => (feed.topic ? [feed.topic] : []));
  const plan = config.pages ? (await import('./pages/write.js')).planPages([...published].sort(newestFirstOrder), config, cwd, { topics, stamps: loaded.cache, previous: previous?.pages ?? {}, previousOnDisk: pagesOnDisk, staticCopies: copied.copies }) : undefined;

  // Each feed document is made again only when what it shows changed (feeds/write.ts).
  const subscriptions = feeds.flatMap((feed) => [feed.links.rss, feed.links.atom, feed.links.json]);
  const settle = await websub?.oweNotices(config, cwd, subscriptions);
  // A static file copied or removed now may have been at a feed's path: then each feed is looked at.
  const feedsOnDisk = outputsOnDisk && copied.written.length === 0 && copied.removed === 0;
  const written = await feedsStage.writeFeeds(feeds, config, cwd, { now, stamps: loaded.cache, previous, previousOnDisk: feedsOnDisk, rendered: plan?.withRendered });
  await settle?.(written.written);
  // The stylesheet is checked like the feeds: deleted by hand, the next build makes it again.
  const outputs = { ...written.outputs, [stylesheet]: writtenStamp(stylesheet) };
  const madePages = await plan?.finish();
  report.written = [...written.written, ...copied.written, ...(stylesheetWritten ? [relative(cwd, stylesheet)] : []), ...(madePages?.written ?? [])];
  report.unchanged = written.unchanged;
  report.warnings.push(...written.warnings, ...(madePages?.warnings ?? []));
  const pages = madePages?.pages ?? {};

  report.warnings = uniqueProblems(report.warnings);
  // The post cache only spares reading posts again. herald start writes it once UNSAVED_POSTS have
  // changed since it last did, not on every pass that brings one new post: a restart reads those
  // few again. Every other build writes what changed.
  let unsavedPosts = (known?.unsavedPosts ?? 0) + loaded.parsed + Math.abs(loaded.cache.size - postCache.size);
  if (unsavedPosts >= (memory ? UNSAVED_POSTS : 1)) {
    await writePostCache(config, cwd, loaded.cache);
    unsavedPosts = 0;
  }
  const scheduled = loaded.posts.filter((post) => !post.draft && post.date > now.getTime()).map((post) => post.date);
  const state = {
    postsStamp,
    validFrom: published.length ? published.reduce((latest, post) => Math.max(latest, post.date), -Infinity) : null,
    validUntil: scheduled.length ? scheduled.reduce((earliest, date) => Math.min(earliest, date), Infinity) : null,
    feeds: written.records,
    topics,
    outputs,
    pages,
    copies: copied.copies,
    assetsStamp: assets,
    templatesStamp: templatesStamp(config),
    counts: report.counts,
    problems: report.problems,
    warnings: report.warnings,
  };
  await writeBuildState(config, cwd, state);
  if (memory) {
    memory.last = { check: state, scan, posts: loaded.posts, records: state, postCache: loaded.cache, unsavedPosts, entryIds };
    memory.pagesToLookAt = false;
  }
  report.notifications = await notify();
  return report;
}

// The state on disk is still that of the build this process remembers: another herald may have
// built since (a post it published has its entry id recorded now).
function isRemembered(remembered: BuildMemory['last'], check: BuildCheck | undefined): remembered is NonNullable<BuildMemory['last']> {
  return remembered !== undefined && check !== undefined && remembered.check.postsStamp === check.postsStamp && remembered.check.validFrom === check.validFrom && remembered.check.validUntil === check.validUntil;
}

// Nothing to do when no post file changed, no post is due to appear or vanish at `now`,
// and every feed file is as the last build left it.
function isUpToDate(state: BuildCheck, postsStamp: string, assets: string, now: Date, config: Config): boolean {
  return state.postsStamp === postsStamp && state.assetsStamp === assets && state.templatesStamp === templatesStamp(config) && isStillValid(state, now);
}

/** No post is due to appear or vanish at `now`, and every feed file is as the build left it. */
function isStillValid(state: BuildCheck, now: Date): boolean {
  const at = now.getTime();
  return (state.validFrom === null || state.validFrom <= at) && (state.validUntil === null || at < state.validUntil) && outputsIntact(state.outputs);
}

function outputsIntact(outputs: Record<string, OutputStamp>): boolean {
  return Object.entries(outputs).every(([path, stamp]) => isIntact(path, stamp));
}

// The same warning can reach the report from more than one stage: it is said once.
function uniqueProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.file}:${problem.line}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
