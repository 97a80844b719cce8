// posts.liquid: a Jekyll post's Liquid run as Jekyll runs it, before the markdown, with its
// _includes folder. LiquidJS is the engine herald's templates already use.
import type { Context, Emitter, Liquid, TagToken, TopLevelToken } from 'liquidjs';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { loadLiquidjs } from '../lazy.js';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parsePost, type PostMeta } from './parse.js';
import { readPostText } from './read.js';

let engine: { config: Config; liquid: Liquid } | undefined;

function jekyllLiquid(config: Config): Liquid {
  if (engine?.config === config) return engine.liquid;
  const { Liquid } = loadLiquidjs();
  const liquid = new Liquid({
    root: [config.paths.includes],
    partials: [config.paths.includes],
    // Jekyll's {% include file.html param="x" %}: an unquoted name, parameters under `include`.
    dynamicPartials: false,
    jekyllInclude: true,
    // Jekyll sites use filters and variables herald does not have: they render empty, as in Jekyll.
    strictFilters: false,
    strictVariables: false,
    cache: true,
  });
  const base = new URL(config.site.url);
  liquid.registerFilter('relative_url', (path: unknown) => `${base.pathname.replace(/\/$/, '')}/${String(path ?? '').replace(/^\//, '')}`);
  liquid.registerFilter('absolute_url', (path: unknown) => new URL(String(path ?? '').replace(/^\//, ''), config.site.url).href);
  liquid.registerFilter('jsonify', (value: unknown) => JSON.stringify(value));
  // {% highlight ruby %}…{% endhighlight %} is Jekyll's own tag: here, a fenced code block.
  liquid.registerTag('highlight', highlightTag());
  // Jekyll's {% post_url 2024-01-15-title %} and {% link _posts/2024-01-15-title.md %}: the
  // address of a post (or a file) from the root of the host, baseurl included, as Jekyll 4 gives
  // it. Looked up each time (a post's front matter, read again): herald start runs for weeks.
  liquid.registerTag('post_url', pathTag((name) => postPath(config, findPost(config, name), `{% post_url ${name} %}`)));
  liquid.registerTag('link', pathTag((name) => linkPath(config, name)));
  engine = { config, liquid };
  return liquid;
}

// A tag whose one argument (unquoted, as Jekyll writes it) names what it links to.
function pathTag(resolvePath: (name: string) => string) {
  return class PathTag extends loadLiquidjs().Tag {
    private readonly target: string;
    constructor(token: TagToken, remaining: TopLevelToken[], liquid: Liquid) {
      super(token, remaining, liquid);
      this.target = token.args.trim().replace(/^(['"])(.*)\1$/, '$2');
    }
    *render(_context: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      emitter.write(resolvePath(this.target));
    }
  };
}

const POST_EXTENSIONS = ['.md', '.markdown', '.html'];

// post_url names a post by its file name without the extension, below the posts folder (a
// sub-folder may be given, or not: Jekyll finds it either way).
function findPost(config: Config, name: string): string {
  const folder = config.paths.posts;
  const wanted = name.replace(/^\/+/, '');
  if (wanted.split(/[\\/]/).includes('..')) throw new Error(`{% post_url ${name} %}: there is no post ${name} in ${folder}`);
  for (const extension of POST_EXTENSIONS) if (existsSync(join(folder, wanted + extension))) return join(folder, wanted + extension);
  const base = basename(wanted);
  const found = (readdirSync(folder, { recursive: true }) as string[]).find((file) => POST_EXTENSIONS.some((extension) => basename(file) === base + extension));
  if (found === undefined) throw new Error(`{% post_url ${name} %}: there is no post ${name} in ${folder}`);
  return join(folder, found);
}

// link names a file from the blog's root (the posts folder's parent, as Jekyll's _posts is): a
// post's address, or a file's own path below the site.
function linkPath(config: Config, name: string): string {
  const root = dirname(config.paths.posts);
  const file = resolve(root, name.replace(/^\/+/, ''));
  const inside = relative(root, file);
  if (inside.startsWith('..') || isAbsolute(inside) || !existsSync(file)) throw new Error(`{% link ${name} %}: there is no file ${name} in ${root}`);
  const below = relative(config.paths.posts, file);
  if (!below.startsWith('..') && !isAbsolute(below)) return postPath(config, file, `{% link ${name} %}`);
  // A Jekyll page (about.md) is not one of herald's: its address would lead nowhere.
  if (POST_EXTENSIONS.some((extension) => file.endsWith(extension))) throw new Error(`{% link ${name} %}: herald publishes no page for ${name}, only the posts in ${config.paths.posts}`);
  return `${new URL(config.site.url).pathname.replace(/\/$/, '')}/${name.replace(/^\/+/, '')}`;
}

function postPath(config: Config, file: string, tag: string): string {
  const parsed = parsePost(readPostText(file, true), file, config);
  if (!parsed.ok) throw new Error(`${tag}: ${basename(file)} is not a post herald can read (${parsed.problems[0]?.message})`);
  // As Jekyll, which finds no such post: its address leads nowhere (yet) and is not to be told.
  if (parsed.meta.draft || parsed.meta.date > Date.now()) throw new Error(`${tag}: ${basename(file)} is not published (a draft, or dated later)`);
  return new URL(parsed.meta.url).pathname;
}

// A class made when Liquid is first needed: its base class is LiquidJS's, loaded then.
function highlightTag() {
  return class HighlightTag extends loadLiquidjs().Tag {
    private readonly language: string;
    private readonly code: string[] = [];
    constructor(token: TagToken, remaining: TopLevelToken[], liquid: Liquid) {
      super(token, remaining, liquid);
      this.language = token.args.trim().split(/\s+/)[0] ?? '';
      for (let next = remaining.shift(); next; next = remaining.shift()) {
        if (next.kind === 4 && (next as TagToken).name === 'endhighlight') return;
        this.code.push(next.getText());
      }
      throw new Error('{% highlight %} is never closed with {% endhighlight %}');
    }
    *render(_context: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      const code = this.code.join('').replace(/^\n/, '').replace(/\n$/, '');
      const fence = '`'.repeat(Math.max(3, ...[...code.matchAll(/`+/g)].map((run) => run[0].length + 1)));
      emitter.write(`${fence}${this.language}\n${code}\n${fence}`);
    }
  };
}

/**
 * The body with its Liquid run: `site` is the config's site (with Jekyll's baseurl), `page` the
 * post. A Liquid error leaves the body as it was, with a warning at its line.
 */
export function renderBodyLiquid(body: string, meta: PostMeta, config: Config): { text: string; warnings: Problem[] } {
  if (!body.includes('{%') && !body.includes('{{')) return { text: body, warnings: [] };
  const site = { ...config.site, baseurl: new URL(config.site.url).pathname.replace(/\/$/, '') };
  const page = { title: meta.title, url: meta.url, date: new Date(meta.date), tags: meta.topics.map((topic) => topic.name), categories: meta.topics.map((topic) => topic.name), slug: meta.slug };
  try {
    return { text: jekyllLiquid(config).parseAndRenderSync(body, { site, page }), warnings: [] };
  } catch (error) {
    const failure = error as Error & { token?: { getPosition(): [number, number] } };
    const line = failure.token ? meta.bodyLine + failure.token.getPosition()[0] - 1 : meta.bodyLine;
    return {
      text: body,
      warnings: [{ code: 'E_POST_SYNTAX', file: meta.file, line, message: `Liquid could not run: ${failure.message.split(', line:')[0]}; the post is published without it`, hint: `fix the tag (herald runs Jekyll's include, from ${config.paths.includes}, highlight, link and post_url; not other tags or plugins' ones), or write what it produced instead` }],
    };
  }
}
