// A Jekyll site's _config.yml read into herald settings. Jekyll's rules are cited from its
// documentation (Permalinks, Configuration, Front Matter Defaults) and jekyll-feed's README.
import { slug as slugify } from 'github-slugger';
import yaml from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { HeraldError } from '../errors.js';
import { loadLiquidjs, loadPicomatch } from '../lazy.js';
import { isRecord } from './literal.js';
import { listed, plural } from '../text.js';
import { authorOf, feedPathOf, joinUrl, languageOf, PlanBuilder, SourcePath, textOf, type InitPlan, type StaticFolder } from './plan.js';
import { joinPath, markdownCounts, readPosts, type PostHead, type SourceTree } from './tree.js';

export const JEKYLL_CONFIGS = ['_config.yml', '_config.yaml', '_config.toml'];

// The tag src/posts/liquid.ts adds to LiquidJS's own for posts.liquid.
const HERALD_TAGS = new Set(['highlight', 'link', 'post_url']);

// Jekyll's DATE_FILENAME_MATCHER, on a file's own name.
const JEKYLL_POST_NAME = /^\d{2,4}-\d{1,2}-\d{1,2}-[^/]*\.[^.]+$/;

// Jekyll's built-in permalink styles (jekyllrb.com/docs/permalinks/#built-in-formats).
const STYLES: Record<string, string> = {
  date: '/:categories/:year/:month/:day/:title:output_ext',
  pretty: '/:categories/:year/:month/:day/:title/',
  ordinal: '/:categories/:year/:y_day/:title:output_ext',
  weekdate: '/:categories/:year/W:week/:short_day/:title:output_ext',
  none: '/:categories/:title:output_ext',
};

// Jekyll's placeholders with a herald equivalent. :title is the file's name (or the slug front
// matter), which is herald's {slug}; herald's {title} is the title made into a slug, as in Hugo.
const PLACEHOLDERS: Record<string, string> = {
  year: '{year}',
  month: '{month}',
  day: '{day}',
  title: '{slug}',
  slug: '{slug}',
  categories: '{categories}',
  slugified_categories: '{categories}',
  output_ext: '.html',
};

// Keys that are Jekyll's own (read here or of no meaning to herald); any other key is the theme's.
const JEKYLL_KEYS = new Set(
  (
    'title name url baseurl description author email lang locale timezone permalink exclude include keep_files plugins gems whitelist theme remote_theme ' +
    'feed source destination collections_dir plugins_dir layouts_dir data_dir includes_dir sass_dir collections safe encoding markdown_ext strict_front_matter ' +
    'show_drafts future unpublished limit_posts incremental profile port host livereload baseurl detach quiet verbose defaults liquid markdown highlighter lsi ' +
    'excerpt_separator kramdown sass webrick paginate paginate_path jekyll-archives jekyll_archives show_dir_listing repository github'
  ).split(' '),
);

// Plugins whose work herald does too, or that have no bearing on posts and feeds.
const HANDLED_PLUGINS = new Set(['jekyll-feed', 'jekyll-redirect-from', 'jekyll-github-metadata', 'jekyll-optional-front-matter', 'jekyll-titles-from-headings', 'jekyll-default-layout', 'jekyll-relative-links']);

export function planJekyll(tree: SourceTree, shown: string): InitPlan {
  const file = JEKYLL_CONFIGS.find((name) => tree.read(name) !== undefined)!;
  const config = readConfig(tree, file, shown);
  const plan = new PlanBuilder();
  const from = (key: string) => `${file} ${key}`;

  plan.set('site.title', textOf(config.title) ?? textOf(config.name), from(config.title === undefined ? 'name' : 'title'));
  const baseurl = textOf(config.baseurl);
  const url = textOf(config.url);
  const cname = textOf(tree.read('CNAME')?.split('\n')[0]);
  if (url) plan.set('site.url', joinUrl(url, baseurl), from(baseurl ? 'url + baseurl' : 'url'));
  else if (cname) plan.set('site.url', joinUrl(`https://${cname.replace(/^https?:\/\//, '')}`, baseurl), `CNAME (GitHub Pages)${baseurl ? ` + ${file} baseurl` : ''}`);
  else plan.note(`${file} has no url: herald's links use http://localhost:8080/ until site.url is set to the address readers use`);
  plan.set('site.description', textOf(config.description), from('description'));
  const author = authorOf(config.author);
  plan.set('site.author.name', author?.name, from('author'));
  const email = author?.email ?? textOf(config.email);
  plan.set('site.author.email', email, from(author?.email ? 'author.email' : 'email'));
  plan.set('site.language', languageOf(config.lang ?? config.locale), from(config.lang === undefined ? 'locale' : 'lang'));
  plan.set('site.timezone', textOf(config.timezone), from('timezone'));
  // Without timezone, Jekyll dates posts in the zone of the machine that builds the site.
  if (!textOf(config.timezone)) plan.note(`${file} has no timezone: Jekyll used the building machine's zone, herald uses UTC (set site.timezone to that zone, or posts dated near midnight move a day in their addresses)`);

  // Jekyll reads _posts in the site's root (or collections_dir); folders above another _posts
  // become its posts' categories.
  const collections = textOf(config.collections_dir);
  const postsFolder = joinPath(collections ?? '', '_posts');
  plan.set('posts.folder', new SourcePath(postsFolder), `Jekyll's posts folder${collections ? ` (${file} collections_dir)` : ''}`);
  const excluded = arrayOf(config.exclude);
  const postExcludes = excluded.flatMap((entry) => {
    const path = entry.replace(/^\.\//, '').replace(/\/+$/, '');
    if (!path.startsWith(`${postsFolder}/`)) return [];
    const inside = path.slice(postsFolder.length + 1);
    return [tree.isFolder(joinPath(postsFolder, inside)) ? `${inside}/**` : inside];
  });
  const isExcluded = postExcludes.length ? loadPicomatch()(postExcludes, { dot: true }) : () => false;
  const found = readPosts(tree, postsFolder).filter((post) => !isExcluded(post.file.slice(postsFolder.length + 1)));
  // Jekyll reads only the files in _posts named YYYY-MM-DD-title.ext; herald reads every one.
  const undated = found.filter((post) => !JEKYLL_POST_NAME.test(post.file.split('/').at(-1)!)).map((post) => post.file.slice(postsFolder.length + 1));
  const posts = found.filter((post) => !undated.includes(post.file.slice(postsFolder.length + 1)));
  plan.set('posts.exclude', [...postExcludes, ...undated], undated.length ? `${postExcludes.length ? `${file} exclude, and ` : ''}files Jekyll skips (not named YYYY-MM-DD-title)` : from('exclude'));
  if (undated.length) plan.note(`${listed(undated)} in ${postsFolder}: not named YYYY-MM-DD-title, so Jekyll skips ${undated.length === 1 ? 'it' : 'them'}; herald would publish any post there, so ${undated.length === 1 ? 'it is' : 'they are'} excluded by name`);
  if (!tree.isFolder(postsFolder)) plan.note(`there is no ${postsFolder} folder: herald check will say so until posts are there`);
  const otherPosts = tree.list(collections ?? '').filter((entry) => entry.folder && !entry.name.startsWith('_') && !entry.name.startsWith('.') && tree.isFolder(joinPath(collections ?? '', entry.name, '_posts')));
  for (const other of otherPosts) {
    plan.note(`${joinPath(collections ?? '', other.name, '_posts')}: Jekyll reads these posts too (in category ${other.name}); herald reads one posts folder, so they are left out (move them into ${postsFolder} with categories: ${other.name})`);
  }

  const permalink = permalinkSetting(config, file);
  const translated = jekyllPermalink(permalink.value);
  if ('pattern' in translated) plan.set('permalink', translated.pattern, STYLES[permalink.value] ? `${permalink.from} (${permalink.value}: ${STYLES[permalink.value]})` : permalink.from);
  else plan.note(`permalink ${JSON.stringify(permalink.value)} (${permalink.from}): ${translated.reason}; herald puts posts at /{slug}/ (set permalink, or url: in a post's front matter, to keep old addresses)`);
  topicKeys(plan, posts, 'pattern' in translated && translated.pattern.includes('{categories}'));

  // Jekyll (Ruby's YAML) reads 2024-06-03 23:30:00 as UTC; herald reads it in site.timezone unless told.
  const naive = posts.filter((post) => typeof post.data.date === 'string' && /\d[T ]\d{1,2}:\d{2}:\d{2}(\.\d+)?\s*$/.test(post.data.date.trim()));
  if (naive.length) plan.set('posts.timesWithoutOffset', 'utc', `Jekyll reads a time without an offset as UTC (${plural(naive.length, 'post')}: ${listed(naive.slice(0, 3).map((post) => post.file.slice(postsFolder.length + 1)))}${naive.length > 3 ? ', …' : ''})`);

  const liquid = posts.filter((post) => post.body.includes('{%') || post.body.includes('{{'));
  if (liquid.length) {
    const includes = textOf(config.includes_dir) ?? '_includes';
    plan.set('posts.liquid', true, `${plural(liquid.length, 'post')} use${liquid.length === 1 ? 's' : ''} Liquid (${listed(liquid.map((post) => post.file.slice(postsFolder.length + 1)))})`);
    plan.set('posts.includes', new SourcePath(includes), `Jekyll's includes folder${config.includes_dir ? ` (${file} includes_dir)` : ''}`);
    // Jekyll's own tags (post_url, link) and plugins' are unknown to LiquidJS: a post using one is
    // published with its Liquid unrun, so each is said now rather than found later.
    const unknown = new Map<string, string[]>();
    for (const post of liquid) {
      for (const match of post.body.matchAll(/\{%-?\s*(\w+)/g)) {
        const tag = match[1]!;
        if (tag in loadLiquidjs().tags || HERALD_TAGS.has(tag) || /^(end\w+|else|elsif|when)$/.test(tag)) continue;
        const files = unknown.get(tag) ?? [];
        const name = post.file.slice(postsFolder.length + 1);
        if (!files.includes(name)) unknown.set(tag, [...files, name]);
      }
    }
    for (const [tag, files] of unknown) {
      plan.note(`{% ${tag} %} (${listed(files)}): herald's Liquid has no such tag, so ${files.length === 1 ? 'that post is' : 'those posts are'} published with ${files.length === 1 ? 'its' : 'their'} Liquid as text (write what it produced instead; herald check names each place)`);
    }
  }

  feedSettings(tree, plan, config, file);
  staticSettings(tree, plan, file, excluded, postsFolder);
  otherNotes(tree, plan, config, file, posts.length);
  return { generator: 'Jekyll', read: [file], settings: plan.settings, notes: plan.notes, posts: posts.length, generatorOutput: textOf(config.destination) ?? '_site' };
}

function readConfig(tree: SourceTree, file: string, shown: string): Record<string, unknown> {
  const text = tree.read(file)!;
  let value: unknown;
  try {
    value = file.endsWith('.toml') ? parseToml(text) : yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: file });
  } catch (error) {
    const mark = (error as yaml.YAMLException).mark;
    throw new HeraldError({
      code: file.endsWith('.toml') ? 'E_CONFIG' : 'E_CONFIG_YAML',
      file: joinPath(shown, file),
      line: mark ? mark.line + 1 : (error as { line?: number }).line,
      message: `cannot read Jekyll's config: ${(error as yaml.YAMLException).reason ?? (error as Error).message.split('\n')[0]}`,
      hint: 'fix it (Jekyll would fail on it too), then run herald init --from again',
    });
  }
  return isRecord(value) ? value : {};
}

function arrayOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((item) => (textOf(item) ? [textOf(item)!] : []));
}

/** The permalink posts get: front matter defaults for posts, else the posts collection's, else the site's, else "date". */
function permalinkSetting(config: Record<string, unknown>, file: string): { value: string; from: string } {
  const defaults = Array.isArray(config.defaults) ? config.defaults.filter(isRecord) : [];
  const forPosts = defaults.filter((entry) => {
    const scope = isRecord(entry.scope) ? entry.scope : {};
    const path = textOf(scope.path) ?? '';
    return (scope.type === 'posts' || (scope.type === undefined && ['', '_posts'].includes(path))) && (path === '' || path === '_posts') && isRecord(entry.values);
  });
  const byDefault = forPosts.map((entry) => textOf((entry.values as Record<string, unknown>).permalink)).filter(Boolean).at(-1);
  if (byDefault) return { value: byDefault, from: `${file} defaults for posts` };
  const collection = isRecord(config.collections) && isRecord(config.collections.posts) ? textOf(config.collections.posts.permalink) : undefined;
  if (collection) return { value: collection, from: `${file} collections.posts.permalink` };
  const site = textOf(config.permalink);
  if (site) return { value: site, from: `${file} permalink` };
  return { value: 'date', from: "Jekyll's default permalink (date)" };
}

/** A Jekyll permalink (a style name or a pattern) as herald's permalink, or why it has none. */
export function jekyllPermalink(value: string): { pattern: string } | { reason: string } {
  const pattern = STYLES[value] ?? value;
  const missing = new Set<string>();
  const translated = pattern.replace(/:([a-z_]+)/g, (all, name: string) => {
    const herald = PLACEHOLDERS[name];
    if (herald === undefined) missing.add(all);
    return herald ?? all;
  });
  if (missing.size) return { reason: `herald has nothing like ${[...missing].join(', ')}` };
  return { pattern: translated.startsWith('/') ? translated : `/${translated}` };
}

/**
 * Jekyll reads category: as well as categories:. Its :categories in a permalink are those alone,
 * as herald's {categories} are, so tags stay topics either way.
 */
function topicKeys(plan: PlanBuilder, posts: PostHead[], urlHasCategories: boolean): void {
  const uses = (key: string) => posts.some((post) => post.data[key] !== undefined && post.data[key] !== null);
  const categoryKeys = ['categories', ...(uses('category') ? ['category'] : [])];
  if (uses('category')) plan.set('posts.topics', ['topics', 'tags', ...categoryKeys], 'Jekyll reads category: as well as categories:');
  if (urlHasCategories) {
    const names = new Set(posts.flatMap((post) => categoryKeys.flatMap((key) => arrayOf(post.data[key]).flatMap((text) => (Array.isArray(post.data[key]) ? [text] : text.split(/\s+/))))));
    const changed = [...names].filter((name) => slugify(name) !== name.toLowerCase());
    if (changed.length) plan.note(`categories ${listed(changed.map((name) => JSON.stringify(name)))}: Jekyll puts them in addresses as written (lower-cased), herald as slugs (${changed.map((name) => slugify(name)).slice(0, 3).join(', ')}), so those posts' addresses change`);
  }
}

function feedSettings(tree: SourceTree, plan: PlanBuilder, config: Record<string, unknown>, file: string): void {
  const plugins = [...arrayOf(config.plugins), ...arrayOf(config.gems)];
  const gemfile = tree.read('Gemfile') ?? '';
  const feedConfig = isRecord(config.feed) ? config.feed : undefined;
  const jekyllFeed = plugins.includes('jekyll-feed') ? `${file} plugins` : /["']jekyll-feed["']/.test(gemfile) ? 'Gemfile' : undefined;
  if (jekyllFeed) {
    // jekyll-feed writes Atom, at feed.xml unless feed.path says otherwise, with the newest 10 posts.
    const path = feedPathOf(feedConfig?.path);
    plan.set('feed.paths.atom', path ?? 'feed.xml', path ? from(file, 'feed.path') : `jekyll-feed's Atom feed (${jekyllFeed})`);
    const limit = typeof feedConfig?.posts_limit === 'number' ? feedConfig.posts_limit : 10;
    plan.set('feed.limit', limit, feedConfig?.posts_limit !== undefined ? from(file, 'feed.posts_limit') : "jekyll-feed's default");
    plan.set('feed.ids', 'jekyll', `jekyll-feed's entry ids (post.id: the URL without .html or the trailing slash), so readers do not see old posts again as new`);
    if (feedConfig?.categories || feedConfig?.tags || feedConfig?.collections) {
      plan.note(`jekyll-feed's category, tag and collection feeds (${file} feed): herald writes a feed for each topic at topics/<topic>/${path ?? 'feed.xml'} instead`);
    }
    return;
  }
  // Without jekyll-feed, a site's feed is a page of its own, usually feed.xml or atom.xml.
  for (const entry of tree.list('')) {
    if (entry.folder || !/\.(xml|json)$/i.test(entry.name)) continue;
    const text = tree.read(entry.name) ?? '';
    if (!text.startsWith('---')) continue;
    const kind = /<rss[\s>]/.test(text) ? 'rss' : /<feed[\s>]/.test(text) ? 'atom' : /jsonfeed\.org\/version/.test(text) ? 'json' : undefined;
    if (kind && plan.get(`feed.paths.${kind}`) === undefined) plan.set(`feed.paths.${kind}`, entry.name, `the site's own ${kind === 'json' ? 'JSON Feed' : kind === 'rss' ? 'RSS' : 'Atom'} page, ${entry.name}`);
  }
}

function from(file: string, key: string): string {
  return `${file} ${key}`;
}

// Folders Jekyll never copies, and herald's own (which would be published otherwise).
const NOT_STATIC = new Set(['node_modules', 'vendor', 'gemfiles', 'public', 'outbox', 'subscribers', 'templates']);

/**
 * Jekyll copies every folder that is not excluded and does not start with _ or . into the site.
 * Those without pages are herald's static folders; assets/ keeps its name, as Jekyll publishes it.
 */
function staticSettings(tree: SourceTree, plan: PlanBuilder, file: string, excluded: string[], postsFolder: string): void {
  const skip = new Set(excluded.map((entry) => entry.replace(/^\.\//, '').replace(/\/+$/, '')));
  const folders: StaticFolder[] = [];
  const processed: string[] = [];
  let skipped = false;
  for (const entry of tree.list('')) {
    if (!entry.folder || entry.name.startsWith('_') || entry.name.startsWith('.') || NOT_STATIC.has(entry.name)) continue;
    if (skip.has(entry.name)) {
      skipped = true;
      continue;
    }
    if (joinPath(entry.name) === postsFolder.split('/')[0] && postsFolder.includes('/')) continue;
    const pages = [...markdownCounts(tree, entry.name).values()].reduce((sum, count) => sum + count, 0) + htmlFiles(tree, entry.name).length;
    if (pages) {
      plan.note(`${entry.name}/ holds pages Jekyll renders: herald publishes posts and its archive only, not pages`);
      continue;
    }
    folders.push({ folder: new SourcePath(entry.name) });
    processed.push(...frontMatterFiles(tree, entry.name));
  }
  plan.set('static', folders, `folders Jekyll copies as they are${skipped ? ` (less ${file} exclude)` : ''}`);
  if (processed.length) {
    plan.note(`${listed(processed)}: Jekyll renders these (front matter, Sass); herald copies them as they are (its pages use herald's own templates and styles)`);
  }
}

function htmlFiles(tree: SourceTree, folder: string): string[] {
  return tree.list(folder).flatMap((entry) => (entry.folder ? htmlFiles(tree, joinPath(folder, entry.name)) : /\.html?$/i.test(entry.name) && tree.read(joinPath(folder, entry.name))?.startsWith('---') ? [joinPath(folder, entry.name)] : []));
}

function frontMatterFiles(tree: SourceTree, folder: string): string[] {
  return tree.list(folder).flatMap((entry) => {
    const path = joinPath(folder, entry.name);
    if (entry.folder) return frontMatterFiles(tree, path);
    return /\.(s[ac]ss|css|js|xml|json|txt)$/i.test(entry.name) && /^---\r?\n/.test(tree.read(path) ?? '') ? [path] : [];
  });
}

function otherNotes(tree: SourceTree, plan: PlanBuilder, config: Record<string, unknown>, file: string, postCount: number): void {
  const theme = textOf(config.theme) ?? textOf(config.remote_theme);
  if (theme || tree.isFolder('_layouts')) {
    plan.note(`${[theme && `theme ${theme}`, tree.isFolder('_layouts') && '_layouts/'].filter(Boolean).join(' and ')}: herald's pages and emails use its own templates (copy them into templates/ to restyle)`);
  }
  const plugins = [...arrayOf(config.plugins), ...arrayOf(config.gems)].filter((plugin) => !HANDLED_PLUGINS.has(plugin));
  const plain: Record<string, string> = {
    'jekyll-sitemap': 'herald writes no sitemap',
    'jekyll-seo-tag': "herald's page template has its own title, description and feed links",
    'jekyll-paginate': "herald's archive is one page",
    'jekyll-paginate-v2': "herald's archive is one page",
    'jekyll-archives': 'herald writes a feed for each topic, not archive pages',
    'jekyll-gist': 'a {% gist %} is published as text',
    'jekyll-mentions': '@mentions stay text',
    'jemoji': ':emoji: codes stay text',
  };
  for (const plugin of plugins) plan.note(`plugin ${plugin}: not run by herald${plain[plugin] ? `; ${plain[plugin]}` : ''}`);
  if (config.paginate !== undefined && !plugins.some((plugin) => plugin.startsWith('jekyll-paginate'))) plan.note(`paginate: ${String(config.paginate)}: herald's archive is one page`);
  if (textOf(config.excerpt_separator)) plan.note(`excerpt_separator ${JSON.stringify(config.excerpt_separator)}: herald's summary is a post's summary:, else the text before <!--more-->, else its first paragraph`);
  if (config.future === true) plan.note('future: true: herald publishes a post when its date comes, never before');
  if (isRecord(config.collections)) {
    const others = Object.keys(config.collections).filter((name) => name !== 'posts');
    if (others.length) plan.note(`collections ${listed(others)}: herald publishes posts only`);
  }
  const defaults = Array.isArray(config.defaults) ? config.defaults.filter(isRecord) : [];
  const applied = new Set(defaults.flatMap((entry) => (isRecord(entry.values) ? Object.keys(entry.values) : [])).filter((key) => !['layout', 'permalink'].includes(key)));
  if (applied.size) plan.note(`defaults (${listed([...applied])}): herald reads each post's own front matter; front matter defaults are not applied`);
  const pages = tree.list('').filter((entry) => !entry.folder && /\.(md|markdown|html)$/i.test(entry.name) && /^---\r?\n/.test(tree.read(entry.name) ?? '') && !/^(readme|license|changelog)\./i.test(entry.name));
  if (pages.length) plan.note(`pages ${listed(pages.map((entry) => entry.name))}: herald publishes posts and its archive (index.html) only`);
  const themeKeys = Object.keys(config).filter((key) => !JEKYLL_KEYS.has(key));
  if (themeKeys.length) plan.note(`${file} ${listed(themeKeys, 4)}: settings for Jekyll's templates; herald's templates do not read them`);
  if (!postCount && tree.isFolder('_posts')) plan.note('_posts holds no posts yet');
}
