// A Hugo site's configuration read into herald settings. Hugo's rules are cited from its
// documentation (Configure permalinks, URL management, Configure Hugo, Output formats).
import { basename } from 'node:path';
import yaml from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { HeraldError } from '../errors.js';
import { isRecord } from './literal.js';
import { listed, plural } from '../text.js';
import { authorOf, feedPathOf, languageOf, PlanBuilder, SourcePath, textOf, type InitPlan } from './plan.js';
import { joinPath, postFiles, readPosts, type PostHead, type SourceTree } from './tree.js';

export const HUGO_CONFIGS = ['hugo.toml', 'hugo.yaml', 'hugo.yml', 'hugo.json', 'config.toml', 'config.yaml', 'config.yml', 'config.json'];
const CONFIG_DIR = 'config/_default';

const LEADING_DATE = /^\d{4}-\d{1,2}-\d{1,2}-/;

export function planHugo(tree: SourceTree, shown: string): InitPlan {
  const { config, read } = readConfig(tree, shown);
  const file = read[0] ?? 'hugo.toml';
  const from = (key: string) => `${file} ${key}`;
  const plan = new PlanBuilder();
  const params = isRecord(config.params) ? config.params : {};

  plan.set('site.title', textOf(config.title), from('title'));
  const baseURL = textOf(config.baseurl);
  if (baseURL && /^https?:\/\//i.test(baseURL)) plan.set('site.url', baseURL.endsWith('/') ? baseURL : `${baseURL}/`, from('baseURL'));
  else plan.note(`${baseURL ? `baseURL ${JSON.stringify(baseURL)} is not an absolute address` : `${file} has no baseURL`}: herald's links use http://localhost:8080/ until site.url is set to the address readers use`);
  const description = textOf(params.description) ?? textOf(config.description);
  plan.set('site.description', description, from(textOf(params.description) ? 'params.description' : 'description'));
  const authorKey = params.author !== undefined ? 'params.author' : config.author !== undefined ? 'author' : 'params.authors';
  const author = authorOf(params.author ?? config.author ?? params.authors);
  plan.set('site.author.name', author?.name, from(authorKey));
  plan.set('site.author.email', author?.email, from(`${authorKey}.email`));
  const language = textOf(config.languagecode) ?? textOf(config.defaultcontentlanguage);
  plan.set('site.language', languageOf(language), from(textOf(config.languagecode) ? 'languageCode' : 'defaultContentLanguage'));
  plan.set('site.timezone', textOf(config.timezone), from('timeZone'));

  const contentDir = textOf(config.contentdir) ?? 'content';
  const section = postsSection(tree, contentDir);
  const postsFolder = joinPath(contentDir, section ?? 'posts');
  plan.set('posts.folder', new SourcePath(postsFolder), section === 'posts' || !section ? `Hugo's posts section` : `the section with the most pages in ${contentDir}/`);
  if (!section) plan.note(`${contentDir}/ has no section with pages: herald check will say so until posts are in ${postsFolder}`);
  const posts = readPosts(tree, postsFolder);
  const sectionName = section ?? 'posts';
  const otherSections = tree.list(contentDir).filter((entry) => entry.folder && entry.name !== sectionName && !entry.name.startsWith('_') && postFiles(tree, joinPath(contentDir, entry.name)).length);
  if (otherSections.length) plan.note(`sections ${listed(otherSections.map((entry) => `${contentDir}/${entry.name}`))}: herald reads one posts folder, ${postsFolder}; pages elsewhere are not published`);

  permalinkSettings(plan, config, file, sectionName, postsFolder, posts);
  topicSettings(plan, config, file);
  feedSettings(plan, config, file, sectionName);

  const staticDirs = (Array.isArray(config.staticdir) ? config.staticdir : [config.staticdir ?? 'static']).flatMap((dir) => (textOf(dir) && tree.isFolder(textOf(dir)!) ? [textOf(dir)!] : []));
  plan.set('static', staticDirs.map((dir) => ({ folder: new SourcePath(dir), path: '/' })), `Hugo copies ${staticDirs.join(', ')} to the site's root`);
  otherNotes(tree, plan, config, params, file, posts);
  return { generator: 'Hugo', read, settings: plan.settings, notes: plan.notes, posts: posts.length, generatorOutput: textOf(config.publishdir) ?? 'public' };
}

/** The site config (one file, or config/_default/ with a file per top-level key), with keys lower-cased as Hugo reads them. */
function readConfig(tree: SourceTree, shown: string): { config: Record<string, unknown>; read: string[] } {
  const read: string[] = [];
  let config: Record<string, unknown> = {};
  const root = HUGO_CONFIGS.find((name) => tree.read(name) !== undefined);
  if (root) {
    config = parseFile(tree, root, shown);
    read.push(root);
  }
  for (const entry of tree.list(CONFIG_DIR)) {
    if (entry.folder || !/\.(toml|ya?ml|json)$/i.test(entry.name)) continue;
    const path = `${CONFIG_DIR}/${entry.name}`;
    const value = parseFile(tree, path, shown);
    const key = entry.name.replace(/\.[^.]+$/, '').toLowerCase();
    config = key === 'hugo' || key === 'config' ? merge(value, config) : merge({ [key]: value }, config);
    read.push(path);
  }
  return { config, read };
}

function parseFile(tree: SourceTree, path: string, shown: string): Record<string, unknown> {
  const text = tree.read(path)!;
  try {
    const value = path.endsWith('.toml') ? parseToml(text) : path.endsWith('.json') ? JSON.parse(text) : yaml.load(text, { schema: yaml.CORE_SCHEMA });
    return isRecord(value) ? (lowerKeys(value) as Record<string, unknown>) : {};
  } catch (error) {
    throw new HeraldError({
      code: path.endsWith('.toml') || path.endsWith('.json') ? 'E_CONFIG' : 'E_CONFIG_YAML',
      file: joinPath(shown, path),
      line: (error as yaml.YAMLException).mark ? (error as yaml.YAMLException).mark.line + 1 : (error as { line?: number }).line,
      message: `cannot read Hugo's config: ${(error as yaml.YAMLException).reason ?? (error as Error).message.split('\n')[0]}`,
      hint: 'fix it (Hugo would fail on it too), then run herald init --from again',
    });
  }
}

// Hugo's config keys are case-insensitive: baseURL, baseurl and BaseURL are one key.
function lowerKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.toLowerCase(), lowerKeys(inner)]));
}

/** `over` wins; tables merge. */
function merge(under: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...under };
  for (const [key, value] of Object.entries(over)) merged[key] = isRecord(value) && isRecord(merged[key]) ? merge(merged[key] as Record<string, unknown>, value) : value;
  return merged;
}

/** content/posts if it has pages, else the top-level section with the most. */
function postsSection(tree: SourceTree, contentDir: string): string | undefined {
  const counts = tree
    .list(contentDir)
    .filter((entry) => entry.folder && !entry.name.startsWith('_') && !entry.name.startsWith('.'))
    .map((entry) => ({ name: entry.name, count: postFiles(tree, joinPath(contentDir, entry.name)).length }))
    .filter((entry) => entry.count > 0);
  if (counts.some((entry) => entry.name === 'posts')) return 'posts';
  return counts.sort((a, b) => b.count - a.count)[0]?.name;
}

function permalinkSettings(plan: PlanBuilder, config: Record<string, unknown>, file: string, section: string, postsFolder: string, posts: PostHead[]): void {
  const permalinks = isRecord(config.permalinks) ? config.permalinks : {};
  const pages = isRecord(permalinks.page) ? permalinks.page : {};
  const configured = textOf(pages[section]) ?? textOf(permalinks[section]);
  const ugly = config.uglyurls === true || (isRecord(config.uglyurls) && config.uglyurls[section] === true);
  const key = textOf(pages[section]) ? `permalinks.page.${section}` : `permalinks.${section}`;
  // Without a pattern, a page's address is its path in content/, with slug: replacing the last part.
  const source = configured ?? `/${section}/:slugorcontentbasename/`;
  const result = hugoPermalink(source, section, posts);
  if ('reason' in result) {
    plan.note(`permalink ${JSON.stringify(source)} (${file} ${key}): ${result.reason}; herald puts posts at /{slug}/ (set permalink, or url: in a post's front matter, to keep old addresses)`);
    return;
  }
  const pattern = ugly && result.pattern.endsWith('/') && result.pattern !== '/' ? `${result.pattern.slice(0, -1)}.html` : result.pattern;
  plan.set('permalink', pattern, configured ? `${file} ${key}${ugly ? ' (uglyURLs)' : ''}` : `Hugo's default: the page's path in ${postsFolder.split('/')[0]}/${ugly ? ' (uglyURLs)' : ''}`);
  for (const note of result.notes) plan.note(note);
  if (!configured) {
    const nested = posts.filter((post) => post.file.slice(postsFolder.length + 1).split('/').length > (/^index\.[^/]+$/i.test(basename(post.file)) ? 2 : 1));
    if (nested.length) plan.note(`${plural(nested.length, 'post')} in subfolders (${listed(nested.map((post) => post.file.slice(postsFolder.length + 1)))}): Hugo's address includes the subfolder, herald's ${pattern} does not`);
  }
  const datePrefixed = result.usesFileName ? posts.filter((post) => post.data.slug === undefined && LEADING_DATE.test(nameOf(post))) : [];
  const fromFileName = Array.isArray(isRecord(config.frontmatter) ? config.frontmatter.date : undefined) && JSON.stringify((config.frontmatter as Record<string, unknown>).date).includes(':filename');
  if (datePrefixed.length && !fromFileName) plan.note(`${plural(datePrefixed.length, 'post')} named with a date (${listed(datePrefixed.map(nameOf))}): herald leaves the date out of the slug, Hugo keeps it, so their addresses change (add slug: to keep them)`);
  const upper = result.usesFileName && config.disablepathtolower !== true ? posts.filter((post) => /[A-Z]/.test(textOf(post.data.slug) ?? nameOf(post))) : [];
  if (upper.length) plan.note(`${plural(upper.length, 'post')} with capitals in the name (${listed(upper.map(nameOf))}): Hugo lower-cases addresses, herald keeps the case`);
}

function nameOf(post: PostHead): string {
  const name = basename(post.file);
  return /^index\./i.test(name) ? basename(post.file.slice(0, -name.length - 1)) : name.replace(/\.[^.]+$/, '');
}

/**
 * A Hugo permalink pattern as herald's. Hugo's :title is the title made into a slug as Hugo makes
 * it (herald's {hugo:title}); its :slug is the slug: field, else the title, which herald has no one placeholder for,
 * so it becomes whichever of {slug} and {title} gives more of the posts their old address.
 */
export function hugoPermalink(pattern: string, section: string, posts: PostHead[]): { pattern: string; notes: string[]; usesFileName: boolean } | { reason: string } {
  const notes: string[] = [];
  const missing = new Set<string>();
  let usesFileName = false;
  const withSlug = posts.filter((post) => textOf(post.data.slug) !== undefined).length;
  const translated = pattern.replace(/:(\w+)(\[[^\]]*\])?/g, (all, name: string, slice: string | undefined) => {
    switch (name) {
      case 'year':
      case '2006':
        return '{year}';
      case 'month':
      case '01':
        return '{month}';
      case 'day':
      case '02':
        return '{day}';
      case 'title':
        return '{hugo:title}';
      case 'slug':
        if (posts.length && withSlug * 2 >= posts.length) {
          if (withSlug < posts.length) notes.push(`:slug is the slug: field, else the title; herald's {slug} falls back to the file name, so the address of ${plural(posts.length - withSlug, 'post')} without slug: changes (add slug: to keep it)`);
          usesFileName = withSlug < posts.length;
          return '{slug}';
        }
        if (withSlug) notes.push(`:slug is the slug: field, else the title; herald writes {hugo:title} for most posts have no slug:, so the address of ${plural(withSlug, 'post')} with slug: changes (set url: in them to keep it)`);
        return '{hugo:title}';
      case 'slugorfilename':
      case 'slugorcontentbasename':
        usesFileName = true;
        return '{slug}';
      case 'filename':
      case 'contentbasename':
        usesFileName = true;
        if (withSlug) notes.push(`:${name} ignores slug:, herald's {slug} does not, so the address of ${plural(withSlug, 'post')} with slug: changes (set url: in them to keep it)`);
        return '{slug}';
      case 'section':
        return section;
      case 'sections':
        return sliceOf([section], slice).join('/');
      default:
        missing.add(all);
        return all;
    }
  });
  if (missing.size) return { reason: `herald has nothing like ${[...missing].join(', ')}` };
  const clean = `/${translated.replace(/\/{2,}/g, '/').replace(/^\/+/, '')}`;
  return { pattern: clean, notes, usesFileName };
}

/** Hugo's :sections[...] slice syntax, on the list of sections. */
function sliceOf(list: string[], slice: string | undefined): string[] {
  if (!slice) return list;
  const index = (text: string | undefined, fallback: number) => (text === undefined || text === '' ? fallback : text === 'last' ? list.length - 1 : Number(text));
  const inner = slice.slice(1, -1);
  if (!inner.includes(':')) {
    const at = index(inner, 0);
    return list.slice(at, at + 1);
  }
  const [start, end] = inner.split(':');
  return list.slice(index(start, 0), index(end, list.length));
}

function topicSettings(plan: PlanBuilder, config: Record<string, unknown>, file: string): void {
  if (!isRecord(config.taxonomies)) return;
  const keys = Object.values(config.taxonomies).flatMap((value) => (textOf(value) ? [textOf(value)!] : []));
  const defaults = ['tags', 'categories'];
  if (keys.length && (keys.length !== 2 || !defaults.every((key) => keys.includes(key)))) plan.set('posts.topics', ['topics', ...keys], `${file} taxonomies`);
}

function feedSettings(plan: PlanBuilder, config: Record<string, unknown>, file: string, section: string): void {
  const outputs = isRecord(config.outputs) ? config.outputs : {};
  const home = Array.isArray(outputs.home) ? outputs.home.map((format) => String(format).toLowerCase()) : undefined;
  const formats = isRecord(config.outputformats) ? config.outputformats : {};
  const rss = isRecord(formats.rss) ? formats.rss : {};
  const name = textOf(rss.basename) ?? 'index';
  if (home && !home.includes('rss')) plan.note(`${file} outputs.home has no RSS: herald writes its feeds all the same (rss.xml, atom.xml, feed.json)`);
  else plan.set('feed.paths.rss', feedPathOf(`${name}.xml`), textOf(rss.basename) ? `${file} outputFormats.rss.baseName` : "Hugo's RSS feed");
  const services = isRecord(config.services) && isRecord(config.services.rss) ? config.services.rss : {};
  const limit = typeof services.limit === 'number' ? services.limit : typeof config.rsslimit === 'number' ? config.rsslimit : -1;
  if (limit > 0) plan.set('feed.limit', limit, `${file} ${typeof services.limit === 'number' ? 'services.rss.limit' : 'rssLimit'}`);
  else plan.note('Hugo lists every page in its RSS feed: herald has no "all", so its feeds hold the newest 20 (raise feed.limit for more)');
  plan.note(`Hugo's section and term feeds (/${section}/${name}.xml, /tags/<tag>/${name}.xml): herald writes a feed for each topic at /topics/<topic>/${name}.xml instead`);
}

// Keys whose effect herald has, or has no use for: the rest are noted.
const HUGO_KEYS = new Set(
  (
    'title baseurl languagecode defaultcontentlanguage timezone contentdir staticdir publishdir permalinks uglyurls taxonomies outputs outputformats services rsslimit ' +
    'params author disablepathtolower frontmatter enablerobotstxt enablegitinfo enableemoji buildDrafts builddrafts buildfuture buildexpired canonifyurls relativeurls ' +
    'module markup minify caches build security server imaging mediatypes related sitemap privacy cleandestinationdir disablekinds summarylength copyright ' +
    'googleanalytics disqusshortname pygmentsusecodefences pygmentscodefences pygmentsstyle theme themesdir layoutdir languages menu menus pagination paginate paginatepath'
  ).split(' '),
);

function otherNotes(tree: SourceTree, plan: PlanBuilder, config: Record<string, unknown>, params: Record<string, unknown>, file: string, posts: PostHead[]): void {
  const theme = Array.isArray(config.theme) ? config.theme.join(', ') : textOf(config.theme);
  if (theme || tree.isFolder('layouts')) {
    plan.note(`${[theme && `theme ${theme}`, tree.isFolder('layouts') && 'layouts/'].filter(Boolean).join(' and ')}: herald's pages and emails use its own templates (copy them into templates/ to restyle)`);
  }
  if (isRecord(config.languages) && Object.keys(config.languages).length > 1) plan.note(`languages ${listed(Object.keys(config.languages))}: herald reads one language's posts, those in the posts folder`);
  if (config.pagination !== undefined || config.paginate !== undefined) plan.note("pagination: herald's archive is one page");
  if (config.summarylength !== undefined) plan.note("summaryLength: herald's summary is a post's summary:, else the text before <!--more-->, else its first paragraph cut at about 280 characters");
  if (config.buildfuture === true) plan.note('buildFuture: herald publishes a post when its date comes, never before');
  if (tree.isFolder('assets')) plan.note("assets/: Hugo processes it (Hugo Pipes) and publishes only what templates use; herald's pages do not use it");
  const shortcodes = posts.filter((post) => /\{\{[<%]/.test(post.body));
  if (shortcodes.length) plan.note(`${plural(shortcodes.length, 'post')} ${shortcodes.length === 1 ? 'uses' : 'use'} shortcodes (${listed(shortcodes.map((post) => nameOf(post)))}): herald leaves them as text; herald check names each, with a suggestion`);
  const publishDate = posts.filter((post) => post.data.publishdate !== undefined || post.data.publishDate !== undefined || post.data.expirydate !== undefined || post.data.expiryDate !== undefined);
  if (publishDate.length) plan.note(`${plural(publishDate.length, 'post')} ${publishDate.length === 1 ? 'sets' : 'set'} publishDate or expiryDate: herald publishes a post at its date: and never expires one`);
  const paramKeys = Object.keys(params).filter((key) => !['description', 'author', 'authors'].includes(key));
  if (paramKeys.length) plan.note(`params ${listed(paramKeys, 4)}: settings for Hugo's templates; herald's templates do not read them`);
  const others = Object.keys(config).filter((key) => !HUGO_KEYS.has(key) && key !== 'description');
  if (others.length) plan.note(`${file} ${listed(others, 4)}: not used by herald`);
}
