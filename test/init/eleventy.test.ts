import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eleventyPermalink, planEleventy } from '../../src/init/eleventy.js';
import { exportedObject } from '../../src/init/literal.js';
import { memoryTree, workspace } from './helpers.js';
import { makeSite, SITE_CONFIG } from '../helpers.js';

// eleventy-base-blog's layout: the config (which herald never runs), _data/metadata.json, a posts
// folder with its directory data file, passthrough copies, eleventy-plugin-rss's virtual feed.
const ELEVENTY_CONFIG = `import { feedPlugin } from "@11ty/eleventy-plugin-rss";
import pluginSyntaxHighlight from "@11ty/eleventy-plugin-syntaxhighlight";
import pluginNavigation from "@11ty/eleventy-navigation";

/** @param {import("@11ty/eleventy").UserConfig} eleventyConfig */
export default async function(eleventyConfig) {
	// Copy the contents of the \`public\` folder to the output folder
	eleventyConfig.addPassthroughCopy({
		"./public/": "/"
	});
	eleventyConfig.addPassthroughCopy("./content/feed/pretty-atom-feed.xsl");

	eleventyConfig.addPlugin(pluginSyntaxHighlight, { preAttributes: { tabindex: 0 } });
	eleventyConfig.addPlugin(pluginNavigation);
	eleventyConfig.addPlugin(feedPlugin, {
		type: "atom", // or "rss", "json"
		outputPath: "/feed/feed.xml",
		stylesheet: "pretty-atom-feed.xsl",
		collection: {
			name: "posts",
			limit: 10,
		},
		metadata: { language: "en", title: "Blog Title", base: "https://example.com/" }
	});
	eleventyConfig.addShortcode("currentBuildDate", () => (new Date()).toISOString());
};

export const config = {
	templateFormats: ["md", "njk", "html", "liquid", "11ty.js"],
	markdownTemplateEngine: "njk",
	htmlTemplateEngine: "njk",
	dir: {
		input: ".",
		includes: "_includes",
		data: "_data",
		output: "_site"
	},
	pathPrefix: "/",
};
`;

function eleventyBlog(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'blog/package.json': '{\n  "name": "kayak-log",\n  "type": "module",\n  "devDependencies": { "@11ty/eleventy": "^3.0.0", "@11ty/eleventy-plugin-rss": "^2.0.2" }\n}\n',
    'blog/eleventy.config.js': ELEVENTY_CONFIG,
    'blog/_data/metadata.json': JSON.stringify(
      {
        title: 'Sea Kayak Log',
        url: 'https://kayak.example.net/',
        language: 'en',
        description: 'Trips, tides and gear.',
        author: { name: 'Lin Paddler', email: 'lin@example.net', url: 'https://kayak.example.net/about/' },
      },
      null,
      '\t',
    ),
    'blog/posts/posts.json': JSON.stringify({ tags: ['posts'], layout: 'layouts/post.njk', permalink: "/log/{{ page.date | date: '%Y' }}/{{ page.fileSlug }}/" }, null, '\t'),
    'blog/posts/firstpost.md': '---\ntitle: Around the headland\ndescription: The first trip of the year.\ndate: 2025-04-05\ntags:\n  - trips\n---\nCalm water until the headland, then a two-knot tide against us.\n',
    'blog/posts/fifthpost/fifthpost.md': '---\ntitle: Drysuit repairs\ndate: 2025-05-11\ntags: [gear, posts]\n---\nA torn gasket, and how it was fixed.\n',
    'blog/public/img/logo.png': 'not really a png',
    'blog/_includes/layouts/post.njk': '---\nlayout: layouts/base.njk\n---\n{{ content | safe }}\n',
    'blog/about/index.md': '---\neleventyNavigation:\n  key: About\n---\n# About\n',
    'blog/index.njk': '---\nlayout: layouts/home.njk\n---\n',
    ...overrides,
  };
}

test('init --from an Eleventy base blog reads metadata, the posts permalink template and the feed plugin without running any code', async (t) => {
  const space = await workspace(t, eleventyBlog());
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /^read the Eleventy blog in \.\.\/blog \(eleventy\.config\.js, _data\/metadata\.json, posts\/posts\.json\): 2 posts in \.\.\/blog\/posts$/m);
  assert.match(result.out, /passthrough copy "\.\/content\/feed\/pretty-atom-feed\.xsl": herald copies folders, not single files/);
  // The collection tag is not a topic: no topics/posts/ feed, and no post edited to avoid one.
  assert.match(result.out, /posts\.ignoreTopics +posts +# Eleventy's collection tag, not a topic/);
  assert.match(result.out, /plugins pluginSyntaxHighlight, pluginNavigation: not run by herald/);

  const config = await space.config('herald/herald.config.yml');
  assert.deepEqual(config.site, {
    title: 'Sea Kayak Log',
    url: 'https://kayak.example.net/',
    description: 'Trips, tides and gear.',
    author: { name: 'Lin Paddler', email: 'lin@example.net' },
    language: 'en',
  });
  assert.deepEqual(config.posts, { ignoreTopics: ['posts'], folder: '../blog/posts' });
  assert.equal(config.permalink, '/log/{year}/{slug}/');
  // eleventy-plugin-rss writes Atom unless type says otherwise.
  assert.deepEqual(config.feed, { limit: 10, paths: { atom: 'feed/feed.xml' } });
  assert.deepEqual(config.static, [{ folder: '../blog/public', path: '/' }]);

  const check = await space.run('herald', 'check');
  assert.equal(check.code, 0, check.err);
  assert.match(check.out, /2 published, 0 draft, 0 scheduled, no problems/);
  const build = await space.run('herald', 'build');
  assert.equal(build.code, 0, build.err);
  assert.match(await space.read('herald/public/feed/feed.xml'), /<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom"/);
  assert.ok(existsSync(join(space.root, 'herald/public/log/2025/firstpost/index.html')));
  assert.ok(existsSync(join(space.root, 'herald/public/log/2025/fifthpost/index.html')));
  assert.ok(existsSync(join(space.root, 'herald/public/img/logo.png')));
});

test("a config in the Eleventy folder writes to herald-public/, as public/ is copied into Eleventy's site", async (t) => {
  const space = await workspace(t, eleventyBlog());
  const result = await space.run('blog', 'init', '--from', '.');
  assert.equal(result.code, 0, result.err);
  assert.equal((await space.config('blog/herald.config.yml')).output, 'herald-public');
  assert.match(result.out, /Eleventy reads every template here that \.gitignore or \.eleventyignore does not name: add outbox\/ and herald-public\//);
  assert.match(result.out, /add \.herald\/ outbox\/ herald-public\/ to \.gitignore/);
  const check = await space.run('blog', 'check');
  assert.equal(check.code, 0, check.err);
});

test('a permalink template herald cannot fill in keeps its default, and says so; metadata.js is read when it is a plain object', async (t) => {
  const space = await workspace(
    t,
    eleventyBlog({
      'blog/posts/posts.json': JSON.stringify({ tags: ['posts'], permalink: '/{% if draft %}drafts/{% endif %}{{ page.fileSlug }}/' }),
      'blog/_data/metadata.json': 'not used: metadata.js comes second',
    }),
  );
  await space.write({ 'blog/_data/metadata.js': 'export default {\n\ttitle: "From JS", // the site\n\turl: "https://js.example.net/",\n\tauthor: { name: `Lin` },\n};\n' });
  const result = await space.run('herald', 'init', '--from', '../blog');
  assert.equal(result.code, 0, result.err);
  assert.match(result.out, /permalink "\/\{% if draft %\}drafts\/\{% endif %\}\{\{ page\.fileSlug \}\}\/" \(posts\/posts\.json\): herald cannot run its \{% %\} tags; herald puts posts at its default, \/\{slug\}\//);
  assert.match(result.out, /_data\/metadata\.json: not valid JSON/);
  const config = await space.config('herald/herald.config.yml');
  assert.equal(config.permalink, undefined);
  assert.deepEqual(config.site, { title: 'From JS', url: 'https://js.example.net/', author: { name: 'Lin' } });
  const check = await space.run('herald', 'check');
  assert.equal(check.code, 0, check.err);
});

test("Eleventy's permalink forms herald can write, and one it cannot", () => {
  assert.deepEqual(eleventyPermalink('/blog/{{ page.fileSlug }}/', 'posts'), { pattern: '/blog/{slug}/' });
  assert.deepEqual(eleventyPermalink('{{ title | slugify }}/index.html', 'posts'), { pattern: '/{eleventy:title}/' });
  assert.deepEqual(eleventyPermalink('/{{ page.date | date: "%Y/%m/%d" }}/{{ page.fileSlug }}.html', 'posts'), { pattern: '/{year}/{month}/{day}/{slug}.html' });
  assert.deepEqual(eleventyPermalink('{{ page.filePathStem }}.html', 'blog'), { pattern: '/blog/{slug}.html' });
  assert.deepEqual(eleventyPermalink('/{{ page.date | htmlDateString }}/{{ page.fileSlug }}/', 'posts'), { pattern: '/{year}-{month}-{day}/{slug}/' });
  assert.deepEqual(eleventyPermalink('/{{ category }}/{{ page.fileSlug }}/', 'posts'), { reason: 'herald cannot fill in {{ category }}' });
});

test("Eleventy's defaults: no permalink is the post's path below input; a computed data file is noted, not run", () => {
  const plan = planEleventy(
    memoryTree({
      '.eleventy.js': 'module.exports = function (eleventyConfig) {\n  eleventyConfig.addPassthroughCopy("img");\n  return { dir: { input: "src", output: "dist" } };\n};\n',
      'src/_data/metadata.js': 'module.exports = { title: process.env.TITLE, url: "https://x.example/" };\n',
      'src/blog/one.md': '---\ntitle: One\ndate: 2025-01-01\n---\n',
      'src/blog/two.md': '---\ntitle: Two\ndate: 2025-01-02\n---\n',
      'src/index.md': '---\ntitle: Home\n---\n',
      'img/logo.png': 'png',
    }),
  );
  const value = (key: string) => plan.settings.find((setting) => setting.key === key)?.value;
  assert.equal((value('posts.folder') as { path: string }).path, 'src/blog');
  assert.equal(value('permalink'), '/blog/{slug}/');
  assert.equal(value('site.url'), undefined);
  assert.ok(plan.notes.some((note) => note.startsWith('src/_data/metadata.js: computed by code herald does not run')));
  assert.equal(plan.generatorOutput, 'dist');
});

test('the literal reader takes plain objects only', () => {
  assert.deepEqual(exportedObject("module.exports = { a: 'x', 'b': [1, -2, true, null], c: { d: `e` }, };\n// done\n"), { a: 'x', b: [1, -2, true, null], c: { d: 'e' } });
  assert.equal(exportedObject('export default { a: someVariable };'), undefined);
  assert.equal(exportedObject('export default { a: `${x}` };'), undefined);
  assert.equal(exportedObject('export default { a: 1 }; console.log(1);'), undefined);
  assert.equal(exportedObject('module.exports = async function () { return {} };'), undefined);
});

test("{eleventy:title} makes a title into an address as Eleventy's slugify filter does (read off Eleventy 3.1's own filter)", async (t) => {
  const titles: [string, string][] = [
    ["Tips & Tricks: Go's defer", 'tips-and-tricks-gos-defer'],
    ['Ünïcode & Spaces: Title!', 'uenicode-and-spaces-title'],
    ['Node.js vs. C++ (2024)', 'node-js-vs-c-2024'],
    ['email@me.com', 'email-me-com'],
    ['Don’t stop', 'don-t-stop'],
    ['camelCase Title', 'camelcase-title'],
    ['Ça va? Oui!', 'ca-va-oui'],
    ['I ♥ Unicode', 'i-love-unicode'],
    ['Straße', 'strasse'],
  ];
  const files = Object.fromEntries(titles.map(([title], i) => [`posts/p${i}.md`, `---\ntitle: "${title.replace(/"/g, '\\"')}"\ndate: 2026-01-0${i + 1}\n---\n\nx\n`]));
  const site = await makeSite(t, {}, `${SITE_CONFIG}permalink: /{eleventy:title}/\n`);
  for (const [path, text] of Object.entries(files)) await site.write(path, text);
  assert.equal((await site.run('build', '--now', '2026-06-01T00:00:00Z')).code, 0);
  const urls = (JSON.parse(await site.read('public/feed.json')) as { items: { title: string; url: string }[] }).items.map((item) => [item.title, item.url.replace('https://example.com/', '').replace(/\/$/, '')]);
  for (const [title, slug] of titles) assert.deepEqual(urls.find(([shown]) => shown === title), [title, slug], title);
});
