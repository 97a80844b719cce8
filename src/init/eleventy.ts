// An Eleventy site read into herald settings, without running any of its code: the config file is
// read as text for a few literal values, and data files only when they are plain literals. The
// layout is eleventy-base-blog's (_data/metadata.json or .js, a posts folder with a directory data
// file, eleventy-plugin-rss), which most Eleventy blogs start from.
import { basename } from 'node:path';
import { exportedObject, isRecord, parenthesized, readLiteral } from './literal.js';
import { listed, plural } from '../text.js';
import { authorOf, feedPathOf, joinUrl, languageOf, PlanBuilder, SourcePath, textOf, type InitPlan, type StaticFolder } from './plan.js';
import { joinPath, markdownCounts, readPosts, type PostHead, type SourceTree } from './tree.js';

export const ELEVENTY_CONFIGS = ['eleventy.config.js', 'eleventy.config.mjs', 'eleventy.config.cjs', '.eleventy.js', 'eleventy.config.ts'];

interface Dirs {
  input: string;
  data: string;
  includes: string;
  output: string;
}

export function planEleventy(tree: SourceTree): InitPlan {
  const file = ELEVENTY_CONFIGS.find((name) => tree.read(name) !== undefined);
  const code = file ? (tree.read(file) ?? '') : '';
  const plan = new PlanBuilder();
  const read = file ? [file] : [];
  const dirs = directories(code);

  const data = readData(tree, joinPath(dirs.input, dirs.data), plan);
  const metadata = data?.value ?? {};
  if (data) read.push(data.file);
  const from = (key: string) => `${data?.file ?? 'metadata'} ${key}`;
  const pathPrefix = literal(code, 'pathPrefix');
  const url = textOf(metadata.url);
  plan.set('site.title', textOf(metadata.title), from('title'));
  if (url) plan.set('site.url', joinUrl(url, pathPrefix), `${from('url')}${pathPrefix && pathPrefix !== '/' ? ` + ${file} pathPrefix` : ''}`);
  else if (data) plan.note(`${data.file} has no url: herald's links use http://localhost:8080/ until site.url is set to the address readers use`);
  plan.set('site.description', textOf(metadata.description), from('description'));
  const author = authorOf(metadata.author);
  plan.set('site.author.name', author?.name, from('author.name'));
  plan.set('site.author.email', author?.email, from('author.email'));
  plan.set('site.language', languageOf(metadata.language ?? metadata.lang), from('language'));
  plan.set('site.timezone', textOf(metadata.timezone ?? metadata.timeZone), from('timezone'));

  const postsFolder = postsFolderOf(tree, dirs);
  plan.set('posts.folder', new SourcePath(postsFolder), 'the folder with the most markdown files');
  const posts = readPosts(tree, postsFolder);
  const postsPath = postsFolder.slice(dirs.input.length).replace(/^\/+/, '');

  const directoryData = readDirectoryData(tree, postsFolder, plan);
  if (directoryData) read.push(directoryData.file);
  permalinkSettings(plan, directoryData, postsPath, posts);
  collectionTags(plan, directoryData?.value, posts);
  feedSettings(tree, plan, code, file, dirs, metadata, data?.file);
  staticSettings(tree, plan, code, file, dirs);
  otherNotes(tree, plan, code, file, dirs, posts, postsFolder);
  return { generator: 'Eleventy', read, settings: plan.settings, notes: plan.notes, posts: posts.length, generatorOutput: dirs.output };
}

/** Eleventy's folders from `dir: { ... }` in the returned/exported config, or setInputDirectory() calls. */
function directories(code: string): Dirs {
  const dirs: Dirs = { input: '', data: '_data', includes: '_includes', output: '_site' };
  const block = /\bdir\s*:\s*\{/.exec(code);
  const object = block ? readLiteral(code, block.index + block[0].length - 1)?.value : undefined;
  for (const key of Object.keys(dirs) as (keyof Dirs)[]) {
    const setter = new RegExp(`set${key[0]!.toUpperCase()}${key.slice(1)}Directory\\(\\s*(['"\`])([^'"\`$]+)\\1`).exec(code)?.[2];
    const value = (isRecord(object) ? textOf(object[key]) : undefined) ?? setter;
    if (value !== undefined) dirs[key] = joinPath(value);
  }
  return dirs;
}

/** A string literal given to `key:` anywhere in the config (pathPrefix and the like), if it is one. */
function literal(code: string, key: string): string | undefined {
  return new RegExp(`\\b${key}\\s*:\\s*(['"\`])([^'"\`$]*)\\1`).exec(code)?.[2];
}

/** _data/metadata (the base blog's) or _data/site, as JSON or a plain exported object literal. */
function readData(tree: SourceTree, dataDir: string, plan: PlanBuilder): { file: string; value: Record<string, unknown> } | undefined {
  for (const name of ['metadata', 'site']) {
    for (const extension of ['json', 'js', 'cjs', 'mjs']) {
      const file = joinPath(dataDir, `${name}.${extension}`);
      const text = tree.read(file);
      if (text === undefined) continue;
      const value = extension === 'json' ? parseJson(text) : exportedObject(text);
      if (value) return { file, value };
      plan.note(`${file}: ${extension === 'json' ? 'not valid JSON' : 'computed by code herald does not run'}, so the site's title, url and author were not read from it (set them under site:)`);
    }
  }
  return undefined;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The folder below input holding the most markdown files; on a tie, one named posts or blog. */
function postsFolderOf(tree: SourceTree, dirs: Dirs): string {
  const counts = [...markdownCounts(tree, dirs.input).entries()].filter(([path, count]) => count > 0 && path !== dirs.input);
  const named = (path: string) => (['posts', 'blog'].includes(basename(path)) ? 1 : 0);
  counts.sort(([a, one], [b, two]) => two - one || named(b) - named(a) || (a < b ? -1 : 1));
  return counts[0]?.[0] ?? (tree.isFolder(joinPath(dirs.input, 'posts')) ? joinPath(dirs.input, 'posts') : joinPath(dirs.input, 'blog'));
}

/** The posts folder's directory data file: posts.json, posts.11tydata.json or a plain posts.11tydata.js. */
function readDirectoryData(tree: SourceTree, folder: string, plan: PlanBuilder): { file: string; value: Record<string, unknown> } | undefined {
  const name = basename(folder);
  for (const candidate of [`${name}.11tydata.json`, `${name}.json`, `${name}.11tydata.js`, `${name}.11tydata.cjs`, `${name}.11tydata.mjs`]) {
    const file = joinPath(folder, candidate);
    const text = tree.read(file);
    if (text === undefined) continue;
    const value = candidate.endsWith('.json') ? parseJson(text) : exportedObject(text);
    if (value) return { file, value };
    plan.note(`${file}: computed by code herald does not run, so its permalink (if any) was not read: herald puts posts at /{slug}/ unless permalink is set`);
  }
  return undefined;
}

function permalinkSettings(plan: PlanBuilder, data: { file: string; value: Record<string, unknown> } | undefined, postsPath: string, posts: PostHead[]): void {
  const given = data?.value.permalink;
  if (given === false) {
    plan.note(`${data!.file} permalink: false: Eleventy writes no page for these posts; herald publishes each at /{slug}/`);
    return;
  }
  const template = textOf(given);
  if (given !== undefined && template === undefined) {
    plan.note(`${data!.file} permalink is not text (a function?): herald puts posts at /{slug}/`);
    return;
  }
  const source = template ?? `/${postsPath ? `${postsPath}/` : ''}{{ page.fileSlug }}/`;
  const result = eleventyPermalink(source, postsPath);
  if ('reason' in result) plan.note(`permalink ${JSON.stringify(source)} (${data!.file}): ${result.reason}; herald puts posts at its default, /{slug}/`);
  else plan.set('permalink', result.pattern, template ? `${data!.file} permalink` : "Eleventy's default: the post's path below the input folder");
  if (!template) {
    const dated = posts.filter((post) => /^\d{4}-\d{2}-\d{2}-/.test(basename(post.file)));
    if (dated.length) plan.note(`${plural(dated.length, 'post')} named with a date (${listed(dated.map((post) => basename(post.file)))}): herald leaves the date out of the address; check these addresses against the old site's`);
  }
  const own = posts.filter((post) => typeof post.data.permalink === 'string' && /\{\{|\{%/.test(post.data.permalink));
  if (own.length) plan.note(`${plural(own.length, 'post')} ${own.length === 1 ? 'sets' : 'set'} a permalink template of their own (${listed(own.map((post) => basename(post.file)))}): herald cannot run it, so they follow the site's permalink`);
}

/**
 * An Eleventy permalink template as herald's permalink: the common forms only ({{ page.fileSlug }},
 * {{ title | slugify }}, {{ page.date | date: "%Y" }}); any other expression or tag is not guessed at.
 */
export function eleventyPermalink(template: string, postsPath: string): { pattern: string } | { reason: string } {
  if (/\{%/.test(template)) return { reason: 'herald cannot run its {% %} tags' };
  let failed: string | undefined;
  const translated = template.replace(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g, (all, expression: string) => {
    const herald = expressionOf(expression.replace(/\s+/g, ' '), postsPath);
    if (herald === undefined) failed ??= all;
    return herald ?? all;
  });
  if (failed) return { reason: `herald cannot fill in ${failed}` };
  // Eleventy writes …/index.html for a page whose address is the folder.
  const pattern = `/${translated.replace(/^\/+/, '')}`.replace(/\/index\.html$/, '/');
  return { pattern };
}

function expressionOf(expression: string, postsPath: string): string | undefined {
  if (/^page\.fileSlug$/.test(expression)) return '{slug}';
  if (/^page\.filePathStem$/.test(expression)) return `/${postsPath ? `${postsPath}/` : ''}{slug}`;
  // slugify is @sindresorhus/slugify, as herald's {eleventy:title}; the old slug filter is another library.
  if (/^(page\.)?title \| ?slugify(\(\))?$/.test(expression.replace(/\s*\|\s*/g, ' | '))) return '{eleventy:title}';
  if (/^(page\.)?title \| ?slug(\(\))?$/.test(expression.replace(/\s*\|\s*/g, ' | '))) return '{title}';
  if (/^page\.date \| ?htmlDateString$/.test(expression.replace(/\s*\|\s*/g, ' | '))) return '{year}-{month}-{day}';
  const date = /^(?:page\.)?date\s*\|\s*\w+\s*(?::\s*|\(\s*)(['"])([^'"]+)\1\s*\)?$/.exec(expression);
  if (date) {
    const format = date[2]!.replace(/%Y|yyyy/g, '{year}').replace(/%m|MM|LL/g, '{month}').replace(/%d|dd/g, '{day}');
    return /^(\{(year|month|day)\}|[-/_.])+$/.test(format) ? format : undefined;
  }
  return undefined;
}

/** Eleventy's `tags` double as collection names: the one in directory data is not a topic. */
function collectionTags(plan: PlanBuilder, data: Record<string, unknown> | undefined, posts: PostHead[]): void {
  const collections = (Array.isArray(data?.tags) ? data.tags : [data?.tags]).flatMap((tag) => (textOf(tag) ? [textOf(tag)!] : []));
  const tagged = collections.filter((name) => posts.some((post) => (Array.isArray(post.data.tags) ? post.data.tags : [post.data.tags]).includes(name)));
  if (tagged.length) plan.set('posts.ignoreTopics', tagged, `Eleventy's collection tag, not a topic (${listed(tagged.map((name) => JSON.stringify(name)))} in the posts' tags)`);
}

function feedSettings(tree: SourceTree, plan: PlanBuilder, code: string, file: string | undefined, dirs: Dirs, metadata: Record<string, unknown>, dataFile: string | undefined): void {
  // eleventy-plugin-rss 2's virtual template: addPlugin(feedPlugin, { type, outputPath, collection: { limit } }).
  for (const call of code.matchAll(/addPlugin\(\s*([\w.]+)\s*,/g)) {
    if (!/feed|rss/i.test(call[1]!)) continue;
    const options = parenthesized(code, call.index + 'addPlugin'.length) ?? '';
    if (!/\boutputPath\b/.test(options)) continue;
    const type = /\btype\s*:\s*(['"])(atom|rss|json)\1/.exec(options)?.[2] ?? 'atom';
    const path = /\boutputPath\s*:\s*(['"`])([^'"`$]+)\1/.exec(options)?.[2];
    if (path) plan.set(`feed.paths.${type}`, feedPathOf(path), `${file} ${call[1]} outputPath (${type === 'atom' ? 'Atom, the plugin\'s default' : type})`);
    else plan.note(`${file} ${call[1]}: its outputPath is not a plain string, so herald writes its ${type} feed at its own default path`);
    const limit = /\blimit\s*:\s*(\d+)/.exec(options)?.[1];
    if (limit && Number(limit) > 0) plan.set('feed.limit', Number(limit), `${file} ${call[1]} collection.limit`);
  }
  // eleventy-base-blog before the virtual template: feed/feed.njk (Atom) and feed/json.njk at metadata.feed.path and metadata.jsonfeed.path.
  const feed = isRecord(metadata.feed) ? feedPathOf(metadata.feed.path) : undefined;
  const json = isRecord(metadata.jsonfeed) ? feedPathOf(metadata.jsonfeed.path) : undefined;
  if (feed && plan.get('feed.paths.atom') === undefined) plan.set('feed.paths.atom', feed, `${dataFile} feed.path (the base blog's Atom feed)`);
  if (json && plan.get('feed.paths.json') === undefined) plan.set('feed.paths.json', json, `${dataFile} jsonfeed.path`);
  // Otherwise, a feed template of the site's own with a literal permalink.
  for (const [path] of markdownCounts(tree, dirs.input)) {
    for (const entry of tree.list(path)) {
      if (entry.folder || !/feed|rss|atom/i.test(entry.name) || !/\.(njk|liquid|xml|json|11ty\.js)$/.test(entry.name)) continue;
      const text = tree.read(joinPath(path, entry.name)) ?? '';
      const permalink = /^---[\s\S]*?^permalink:\s*["']?([^"'\n{]+?)["']?\s*$[\s\S]*?^---/m.exec(text)?.[1];
      const kind = /<rss[\s>]/.test(text) ? 'rss' : /<feed[\s>]/.test(text) ? 'atom' : /jsonfeed\.org\/version/.test(text) ? 'json' : undefined;
      if (kind && permalink && plan.get(`feed.paths.${kind}`) === undefined) plan.set(`feed.paths.${kind}`, feedPathOf(permalink), `the site's feed template ${joinPath(path, entry.name)}`);
    }
  }
}

/**
 * addPassthroughCopy("img") publishes img/ under its path below input; { "./public/": "/" } puts
 * a folder where it says. herald's static folders are folders, so files and globs are noted.
 */
function staticSettings(tree: SourceTree, plan: PlanBuilder, code: string, file: string | undefined, dirs: Dirs): void {
  const folders: StaticFolder[] = [];
  for (const call of code.matchAll(/addPassthroughCopy\(/g)) {
    const args = (parenthesized(code, call.index + call[0].length - 1) ?? '').trim();
    const single = /^(['"`])([^'"`$]+)\1$/.exec(args)?.[2];
    const object = args.startsWith('{') ? readLiteral(args, 0)?.value : undefined;
    const pairs: [string, string | undefined][] = single !== undefined ? [[single, undefined]] : isRecord(object) ? Object.entries(object).map(([source, target]) => [source, textOf(target) ?? '']) : [];
    if (!pairs.length) {
      plan.note(`${file} addPassthroughCopy(${args.length > 40 ? `${args.slice(0, 40)}…` : args}): not a plain path, so herald does not copy it (add the folder to static:)`);
      continue;
    }
    for (const [source, target] of pairs) {
      const folder = joinPath(source);
      if (/[*?{[]/.test(source)) plan.note(`passthrough copy ${JSON.stringify(source)}: herald copies whole folders, not globs (add the folder to static:)`);
      else if (!tree.isFolder(folder)) plan.note(`passthrough copy ${JSON.stringify(source)}: herald copies folders, not single files (put it in a static folder)`);
      else {
        const below = target ?? (folder.startsWith(`${dirs.input}/`) && dirs.input ? folder.slice(dirs.input.length + 1) : folder);
        const path = `/${below.replace(/^\.?\/+|\/+$/g, '')}`;
        folders.push(path === `/${basename(folder)}` ? { folder: new SourcePath(folder) } : { folder: new SourcePath(folder), path: path.endsWith('/') ? path : `${path}/` });
      }
    }
  }
  plan.set('static', folders, `${file} addPassthroughCopy`);
}

function otherNotes(tree: SourceTree, plan: PlanBuilder, code: string, file: string | undefined, dirs: Dirs, posts: PostHead[], postsFolder: string): void {
  const templated = posts.filter((post) => /\{\{|\{%/.test(post.body));
  if (templated.length) {
    const engine = literal(code, 'markdownTemplateEngine') ?? 'liquid';
    plan.note(`${plural(templated.length, 'post')} ${templated.length === 1 ? 'uses' : 'use'} template syntax (${listed(templated.map((post) => basename(post.file)))}), which Eleventy runs as ${engine}: herald leaves it as text; herald check names each place`);
  }
  const plugins = [...new Set([...code.matchAll(/addPlugin\(\s*([\w.]+)/g)].map((match) => match[1]!).filter((name) => !/feed|rss/i.test(name)))];
  if (plugins.length) plan.note(`plugins ${listed(plugins, 4)}: not run by herald`);
  const shortcodes = [...new Set([...code.matchAll(/add(?:Paired)?(?:Nunjucks|Liquid)?Shortcode\(\s*(['"])([^'"]+)\1/g)].map((match) => match[2]!))];
  if (shortcodes.length) plan.note(`shortcodes ${listed(shortcodes, 4)}: herald has none; a post that uses one shows it as text`);
  if (tree.isFolder(joinPath(dirs.input, dirs.includes))) plan.note(`${joinPath(dirs.input, dirs.includes)}/ (layouts): herald's pages and emails use its own templates (copy them into templates/ to restyle)`);
  const dated = posts.filter((post) => typeof post.data.date === 'string' && /last modified|created/i.test(post.data.date));
  if (dated.length) plan.note(`${plural(dated.length, 'post')} dated "${String(dated[0]!.data.date)}" (${listed(dated.map((post) => basename(post.file)))}): herald needs a real date; herald check names each`);
  const counts = markdownCounts(tree, dirs.input);
  const pages = [...counts.entries()].filter(([path, count]) => count > 0 && path !== postsFolder && !path.startsWith(`${postsFolder}/`)).reduce((sum, [, count]) => sum + count, 0);
  if (pages) plan.note(`${plural(pages, 'page')} outside ${postsFolder}/ (about, the home page): herald publishes posts and its archive only`);
  if (!file) plan.note('no eleventy.config.js: read with Eleventy\'s defaults');
}
