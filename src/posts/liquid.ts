// posts.liquid: a Jekyll post's Liquid run as Jekyll runs it, before the markdown, with its
// _includes folder. LiquidJS is the engine herald's templates already use.
import type { Context, Emitter, Liquid, TagToken, TopLevelToken } from 'liquidjs';
import type { Config } from '../config.js';
import type { Problem } from '../errors.js';
import { loadLiquidjs } from '../lazy.js';
import type { PostMeta } from './parse.js';

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
  engine = { config, liquid };
  return liquid;
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
      warnings: [{ code: 'E_POST_SYNTAX', file: meta.file, line, message: `Liquid could not run: ${failure.message.split(', line:')[0]}; the post is published without it`, hint: `fix the tag, or check that its include is in ${config.paths.includes}` }],
    };
  }
}
