import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hugoPermalink, planHugo } from '../../src/init/hugo.js';
import type { PostHead } from '../../src/init/tree.js';
import { memoryTree, workspace } from './helpers.js';

const HUGO_TOML = `baseURL = 'https://notes.example.org/'
languageCode = 'en-us'
title = 'Workshop Notes'
timeZone = 'America/New_York'
theme = 'ananke'

[params]
  description = 'Small projects, written up.'
  author = { name = 'Grace Builder', email = 'grace@example.org' }
  favicon = 'images/favicon.png'

[permalinks]
  posts = '/:year/:month/:title/'

[services.rss]
  limit = 15
`;

// A Hugo site as the quick start leaves it, with a page bundle, a plain post, a page outside
// the posts section and a static folder.
function hugoSite(config = HUGO_TOML): Record<string, string> {
  return {
    'site/hugo.toml': config,
    'site/content/_index.md': '---\ntitle: Home\n---\n',
    'site/content/posts/_index.md': '---\ntitle: Posts\n---\n',
    'site/content/posts/my-bundle/index.md': `+++
title = 'Building a Bench'
date = 2025-03-02T09:00:00-05:00
tags = ['woodwork']
draft = false
+++
The bench, from rough boards to the finished seat.

![The finished bench](bench.jpg)

{{< figure src="bench.jpg" title="Finished" >}}
`,
    'site/content/posts/my-bundle/bench.jpg': 'not really a jpeg',
    'site/content/posts/first-light.md': '---\ntitle: "First Light"\ndate: 2025-01-12\ntags: [astronomy]\n---\nThe telescope works.\n',
    'site/content/about/index.md': '---\ntitle: About\n---\nMe.\n',
    'site/static/images/favicon.png': 'not really a png',
    'site/archetypes/default.md': '+++\ntitle = \'{{ replace .File.ContentBaseName "-" " " | title }}\'\ndraft = true\n+++\n',
  };
}

test('init --from a Hugo site writes a config with its title, baseURL, zone, permalinks, RSS at index.xml and static/, which herald check passes', async (t) => {
  const space = await workspace(t, hugoSite());
  const result = await space.run('herald', 'init', '--from', '../site');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^read the Hugo blog in \.\.\/site \(hugo\.toml\): 2 posts in \.\.\/site\/content\/posts$/m);
  assert.match(result.out, /1 post uses shortcodes \(my-bundle\): herald leaves them as text/);
  assert.match(result.out, /sections content\/about: herald reads one posts folder/);
  assert.match(result.out, /params favicon: settings for Hugo's templates/);

  const config = await space.config('herald/herald.config.yml');
  assert.deepEqual(config.site, {
    title: 'Workshop Notes',
    url: 'https://notes.example.org/',
    description: 'Small projects, written up.',
    author: { name: 'Grace Builder', email: 'grace@example.org' },
    language: 'en-us',
    timezone: 'America/New_York',
  });
  assert.equal(config.posts, '../site/content/posts');
  // Hugo's :title is the title made into a slug as Hugo makes it: herald's {hugo:title}.
  assert.equal(config.permalink, '/{year}/{month}/{hugo:title}/');
  assert.deepEqual(config.feed, { limit: 15, paths: { rss: 'index.xml' } });
  assert.deepEqual(config.static, [{ folder: '../site/static', path: '/' }]);

  const check = await space.run('herald', 'check');
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /2 published, 0 draft, 0 scheduled, no problems/);
  assert.match(check.err, /warning: \.\.\/site\/content\/posts\/my-bundle\/index\.md:11: Hugo shortcode \{\{< figure/);

  const build = await space.run('herald', 'build');
  assert.equal(build.code, 0, build.err);
  assert.match(await space.read('herald/public/index.xml'), /<rss [^>]*version="2\.0"/);
  assert.ok(existsSync(join(space.root, 'herald/public/2025/03/building-a-bench/index.html')));
  assert.ok(existsSync(join(space.root, 'herald/public/2025/03/building-a-bench/bench.jpg')));
  assert.ok(existsSync(join(space.root, 'herald/public/images/favicon.png')));
});

test("a config in the Hugo folder writes to herald-public/, as public/ is Hugo's", async (t) => {
  const space = await workspace(t, hugoSite());
  const result = await space.run('site', 'init', '--from', '.');
  assert.equal(result.code, 0, result.err);
  const config = await space.config('site/herald.config.yml');
  assert.equal(config.output, 'herald-public');
  assert.equal(config.posts, 'content/posts');
  assert.match(result.out, /output: public\/ next to the config is Hugo's own output, so herald writes its site to herald-public\/ instead/);
  const check = await space.run('site', 'check');
  assert.equal(check.code, 0, check.err);
});

test("Hugo without permalinks: the page's path in content/, and config/_default/ read as Hugo merges it", () => {
  const plan = planHugo(
    memoryTree({
      'config/_default/hugo.yaml': 'baseURL: https://x.example/\ntitle: Split\nuglyURLs: true\n',
      'config/_default/params.yaml': 'description: From params.yaml\n',
      'content/blog/one.md': '---\ntitle: One\ndate: 2025-01-01\n---\n',
      'content/blog/two.md': '---\ntitle: Two\ndate: 2025-01-02\nslug: deux\n---\n',
      'content/notes/x.md': '---\ntitle: X\ndate: 2025-01-01\n---\n',
    }),
    'site',
  );
  const value = (key: string) => plan.settings.find((setting) => setting.key === key)?.value;
  assert.deepEqual(plan.read, ['config/_default/hugo.yaml', 'config/_default/params.yaml']);
  assert.equal(value('site.description'), 'From params.yaml');
  // blog has more pages than notes; uglyURLs makes /blog/one.html.
  assert.equal((value('posts.folder') as { path: string }).path, 'content/blog');
  assert.equal(value('permalink'), '/blog/{slug}.html');
  assert.ok(plan.notes.some((note) => note.startsWith('Hugo lists every page in its RSS feed')));
});

function post(data: Record<string, unknown>, file = 'content/posts/a.md'): PostHead {
  return { file, data, body: '' };
}

test("Hugo's permalink tokens: :slug becomes whichever of {slug} and {title} keeps more addresses", () => {
  const noSlugs = [post({ title: 'A' }), post({ title: 'B' })];
  assert.deepEqual(hugoPermalink('/:year/:slug/', 'posts', noSlugs), { pattern: '/{year}/{hugo:title}/', notes: [], usesFileName: false });
  const slugs = [post({ title: 'A', slug: 'a' }), post({ title: 'B', slug: 'b' }), post({ title: 'C' })];
  const mixed = hugoPermalink('/:slug/', 'posts', slugs);
  assert.ok('pattern' in mixed && mixed.pattern === '/{slug}/');
  assert.match('notes' in mixed ? mixed.notes[0]! : '', /the address of 1 post without slug: changes/);
  assert.deepEqual(hugoPermalink('/:sections[1:]/:2006/:01/:slugorfilename/', 'posts', noSlugs), { pattern: '/{year}/{month}/{slug}/', notes: [], usesFileName: true });
  assert.deepEqual(hugoPermalink('/:section/:contentbasename/', 'posts', noSlugs), { pattern: '/posts/{slug}/', notes: [], usesFileName: true });
  assert.deepEqual(hugoPermalink('/:year/:monthname/:title/', 'posts', noSlugs), { reason: 'herald has nothing like :monthname' });
});

test("Hugo's [permalinks.page] form, a section named post, and a baseURL that is only a path", () => {
  const plan = planHugo(
    memoryTree({
      'config.toml': "baseURL = '/'\ntitle = 'Paths'\n[permalinks.page]\n  post = '/articles/:year/:month/:slug/'\n[outputFormats.RSS]\n  baseName = 'feed'\n",
      'content/post/one.md': '---\ntitle: One\ndate: 2025-01-01\n---\n',
      'themes/x/theme.toml': 'name = "x"\n',
    }),
    'site',
  );
  const value = (key: string) => plan.settings.find((setting) => setting.key === key)?.value;
  assert.equal((value('posts.folder') as { path: string }).path, 'content/post');
  assert.equal(value('permalink'), '/articles/{year}/{month}/{hugo:title}/');
  assert.equal(value('feed.paths.rss'), 'feed.xml');
  assert.equal(value('site.url'), undefined);
  assert.ok(plan.notes.some((note) => note.startsWith('baseURL "/" is not an absolute address')));
});

test("{hugo:title} makes a title into an address as Hugo's urlize does (read off Hugo 0.111's own output)", async () => {
  const { hugoUrlize } = await import('../../src/posts/parse.js');
  const hugo: [string, string][] = [
    ["Tips & Tricks: Go's defer", 'tips-tricks-gos-defer'],
    ['Ünïcode & Spaces: Title!', 'ünïcode-spaces-title'],
    ['Node.js vs. C++ (2024)', 'node.js-vs.-c-2024'],
    ['Hello World', 'hello-world'],
    ['a/b c', 'a/b-c'],
    ['50% off', '50-off'],
    ['email@me.com', 'email@me.com'],
    ['x_y z', 'x_y-z'],
    ['Émoji 🎉 party', 'émoji-party'],
    ['Don’t stop', 'dont-stop'],
    ['UPPER lower', 'upper-lower'],
    ['multiple   spaces', 'multiple-spaces'],
    ['dash - in - middle', 'dash-in-middle'],
    ['tilde~ok', 'tilde~ok'],
    ['trailing dash -', 'trailing-dash-'],
    ['- leading dash', '-leading-dash'],
    ['dots... end.', 'dots...-end.'],
    ['plus+plus', 'plus-plus'],
    ['quote "marks" here', 'quote-marks-here'],
  ];
  for (const [title, expected] of hugo) assert.equal(hugoUrlize(title), expected, title);
});
