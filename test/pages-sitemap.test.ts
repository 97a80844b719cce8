import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { renderSitemaps } from '../src/pages/sitemap.js';
import { makeSite, post, SITE_CONFIG } from './helpers.js';

const SITE = 'https://example.com/';

// The structure sitemaps.org 0.9 sets out (https://www.sitemaps.org/protocol.html): a urlset of
// at most 50,000 url, or a sitemapindex of sitemap, each with a loc (an absolute URL of at most
// 2,048 characters) and an optional lastmod in W3C Datetime, all in the sitemap namespace.
const SCHEMA = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" elementFormDefault="qualified">
  <xs:simpleType name="loc"><xs:restriction base="xs:anyURI"><xs:pattern value="https?://.+"/><xs:maxLength value="2048"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="lastmod"><xs:union memberTypes="xs:date xs:dateTime"/></xs:simpleType>
  <xs:complexType name="entry"><xs:sequence><xs:element name="loc" type="loc"/><xs:element name="lastmod" type="lastmod" minOccurs="0"/></xs:sequence></xs:complexType>
  <xs:element name="urlset"><xs:complexType><xs:sequence><xs:element name="url" type="entry" maxOccurs="50000"/></xs:sequence></xs:complexType></xs:element>
  <xs:element name="sitemapindex"><xs:complexType><xs:sequence><xs:element name="sitemap" type="entry" maxOccurs="50000"/></xs:sequence></xs:complexType></xs:element>
</xs:schema>
`;

/** xmllint: well-formed, and valid against the sitemaps.org structure. */
async function validate(t: TestContext, files: string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-sitemap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const schema = join(dir, 'sitemap.xsd');
  await writeFile(schema, SCHEMA);
  execFileSync('xmllint', ['--noout', ...files]);
  execFileSync('xmllint', ['--noout', '--schema', schema, ...files], { stdio: 'pipe' });
}

const locs = (xml: string) => [...xml.matchAll(/<loc>([^<]*)<\/loc>/g)].map((match) => match[1]);

test('sitemap.xml lists every page herald writes, with lastmod from the posts, and no redirect', async (t) => {
  const site = await makeSite(
    t,
    {
      'a.md': '---\ntitle: A\ndate: 2026-01-01\nupdated: 2026-03-04T05:06:07Z\ntopics: [Work]\naliases: [/old-a/]\n---\n\nA.\n',
      'b.md': post({ title: 'B', date: '2026-01-02T10:00:00Z', topics: 'work' }),
      'c.md': post({ title: 'C', date: '2026-01-03T10:00:00Z' }),
      'd.md': post({ title: 'D', draft: true }),
    },
    `${SITE_CONFIG}  perPage: 1\n`,
  );
  assert.equal((await site.run('build', '--now', '2026-06-01')).code, 0);
  assert.ok(existsSync(join(site.dir, 'public/old-a/index.html')), 'the redirect page is there');
  const xml = await site.read('public/sitemap.xml');
  await validate(t, [join(site.dir, 'public/sitemap.xml')]);
  assert.deepEqual(locs(xml), [SITE, `${SITE}page/2/`, `${SITE}page/3/`, `${SITE}topics/`, `${SITE}topics/work/`, `${SITE}topics/work/page/2/`, `${SITE}c/`, `${SITE}b/`, `${SITE}a/`]);
  assert.match(xml, /<url><loc>https:\/\/example\.com\/a\/<\/loc><lastmod>2026-03-04T05:06:07Z<\/lastmod><\/url>/);
  // A listing page changed when the newest change among its posts did.
  assert.match(xml, /<url><loc>https:\/\/example\.com\/page\/3\/<\/loc><lastmod>2026-03-04T05:06:07Z<\/lastmod><\/url>/);
  assert.match(xml, /<url><loc>https:\/\/example\.com\/<\/loc><lastmod>2026-01-03T10:00:00Z<\/lastmod><\/url>/);
  assert.ok(existsSync(join(site.dir, 'public/sitemap.xml.gz')));
});

test('past the limits, sitemap.xml is a sitemap index of sitemap-1.xml, sitemap-2.xml...', async (t) => {
  const entries = Array.from({ length: 7 }, (_, i) => ({ url: `${SITE}p${i}/?a=1&b=2`, updated: Date.UTC(2026, 0, i + 1) }));
  const files = renderSitemaps(entries, SITE, { urls: 3, bytes: 50 * 1024 * 1024 });
  assert.deepEqual(
    files.map((file) => file.path),
    ['sitemap.xml', 'sitemap-1.xml', 'sitemap-2.xml', 'sitemap-3.xml'],
  );
  assert.match(files[0]!.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<sitemapindex xmlns="http:\/\/www\.sitemaps\.org\/schemas\/sitemap\/0\.9">/);
  assert.deepEqual(locs(files[0]!.text), [`${SITE}sitemap-1.xml`, `${SITE}sitemap-2.xml`, `${SITE}sitemap-3.xml`]);
  // Each part's lastmod is the newest of its pages.
  assert.match(files[0]!.text, /sitemap-2\.xml<\/loc><lastmod>2026-01-06T00:00:00Z</);
  assert.deepEqual(
    files.slice(1).flatMap((file) => locs(file.text)),
    entries.map((entry) => entry.url.replace('&', '&amp;')),
  );
  const dir = await mkdtemp(join(tmpdir(), 'herald-sitemaps-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const file of files) await writeFile(join(dir, file.path), file.text);
  await validate(t, files.map((file) => join(dir, file.path)));

  // The byte limit splits too, and a part never passes it.
  const bytes = 400;
  const split = renderSitemaps(entries, SITE, { urls: 50_000, bytes });
  assert.ok(split.length > 2);
  for (const file of split.slice(1)) assert.ok(Buffer.byteLength(file.text) <= bytes, `${file.path} is ${Buffer.byteLength(file.text)} bytes`);
  assert.deepEqual(split.slice(1).flatMap((file) => locs(file.text)).length, 7);
  // Within the limits, one sitemap.
  assert.deepEqual(renderSitemaps(entries, SITE).map((file) => file.path), ['sitemap.xml']);
});

test('robots.txt lets every crawler in and names the sitemap', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) });
  await site.run('build', '--now', '2026-06-01');
  assert.equal(await site.read('public/robots.txt'), `User-agent: *\nAllow: /\n\nSitemap: ${SITE}sitemap.xml\n`);
});

test("the writer's own robots.txt in a static folder wins, build after build, and herald's comes back without it", async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) });
  await site.run('build', '--now', '2026-06-01');
  const own = 'User-agent: *\nDisallow: /drafts/\n';
  await site.write('static/robots.txt', own);
  let result = await site.run('build', '--now', '2026-06-01');
  assert.equal(await site.read('public/robots.txt'), own);
  assert.equal(existsSync(join(site.dir, 'public/robots.txt.gz')), false, "herald's compressed copies of its own go");
  // Another build for another reason: neither side writes robots.txt again.
  await site.write('posts/b.md', post({ title: 'B' }));
  result = await site.run('build', '--now', '2026-06-01');
  assert.doesNotMatch(result.out, /robots\.txt/);
  assert.equal(await site.read('public/robots.txt'), own);

  await rm(join(site.dir, 'static/robots.txt'));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/robots.txt'), /^Sitemap: https:\/\/example\.com\/sitemap\.xml$/m);
  await site.write('posts/c.md', post({ title: 'C' }));
  await site.run('build', '--now', '2026-06-01');
  assert.match(await site.read('public/robots.txt'), /^Sitemap: /m);
});

test('pages: false writes no sitemap or robots.txt', async (t) => {
  const site = await makeSite(t, { 'a.md': post({ title: 'A' }) }, `${SITE_CONFIG}pages: false\n`);
  await site.run('build', '--now', '2026-06-01');
  assert.equal(existsSync(join(site.dir, 'public/sitemap.xml')), false);
  assert.equal(existsSync(join(site.dir, 'public/robots.txt')), false);
});
