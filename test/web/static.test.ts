import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { writeOutput } from '../../src/output.js';
import { feedSecurityHeaders, HttpError, securityHeaders } from '../../src/web/http.js';
import { acceptedEncodings, feedTypes, serveKnown, serveStatic, staticSegments, type StaticSite } from '../../src/web/static.js';

/** A temp folder with the given files (text) and symlinks (absolute targets), removed when the test ends. */
async function makeFolder(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-static-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

async function link(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(target, path);
}

function staticSite(output: string): StaticSite {
  const site = 'http://localhost:8080/';
  return { outputDir: output, headers: securityHeaders(site, site), feedTypes: feedTypes({ rss: 'rss.xml', atom: 'atom.xml', json: 'feed.json' }), feedHeaders: feedSecurityHeaders(site, site) };
}

/** Serves `output` the way herald's web server does (a target served before from memory first), with the HttpError status as the answer and the body as text. */
async function serve(t: TestContext, output: string): Promise<(path: string, headers?: Record<string, string>) => Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>> {
  const get = await serveBytes(t, output);
  return async (path, headers) => {
    const answer = await get(path, headers);
    return { ...answer, body: answer.body.toString('utf8') };
  };
}

test('no path with a segment starting with a dot is served, however it is encoded', async (t) => {
  const site = await makeFolder(t, {
    'public/index.html': '<p>home</p>',
    'public/.git/config': '[core]',
    'public/.env': 'SECRET=1',
    'public/.secret': 'secret',
    'public/.herald/secret': 'hmac key',
    'public/posts/.draft.html': 'draft',
    'public/posts/hello/index.html': '<p>hello</p>',
    'public/.well-known/acme-challenge/token1': 'token1.key',
    'public/.well-known/.git/config': '[core]',
    'public/posts/.well-known/secret': 'secret',
  });
  const get = await serve(t, join(site, 'public'));
  assert.equal((await get('/')).body, '<p>home</p>');
  assert.equal((await get('/posts/hello/')).body, '<p>hello</p>');
  // RFC 8615's folder at the root is the one published on purpose (ACME challenges, security.txt).
  assert.equal((await get('/.well-known/acme-challenge/token1')).body, 'token1.key');
  const hidden = [
    '/.git/config',
    '/.env',
    '/.secret',
    '/.herald/secret',
    '/posts/.draft.html',
    '/%2egit/config',
    '/%2Egit/config',
    '/.%67it/config',
    '/%2e%65nv',
    '/posts%2f.draft.html',
    '/posts/%2e%2e/.secret',
    '/posts/hello/..%2f..%2f.secret',
    '/%2e%2e/public/index.html',
    '/..%2fpublic/index.html',
    '/.well-known/.git/config',
    '/posts/.well-known/secret',
  ];
  for (const path of hidden) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(response.body, /secret|\[core\]|hmac|draft/, path);
  }
  assert.equal((await get('/%E0%A4%A')).status, 400);
  assert.equal((await get('/index.html%00')).status, 400);
});

test('a symlink out of the output folder is never followed; one inside it is served', async (t) => {
  const outside = await makeFolder(t, { 'passwd': 'root:x:0:0', 'dir/file.txt': 'outside file', 'dir/index.html': 'outside index' });
  const site = await makeFolder(t, {
    'public/real.txt': 'inside file',
    'public/sub/index.html': '<p>sub</p>',
    'public/.hidden/note.txt': 'hidden note',
    'public/pages/.keep': '',
    'herald.config.yml': 'site: {}',
  });
  const output = join(site, 'public');
  await link(join(outside, 'passwd'), join(output, 'passwd'));
  await link(join(outside, 'dir'), join(output, 'elsewhere'));
  await link('../herald.config.yml', join(output, 'config.txt'));
  await link(join(output, '.hidden/note.txt'), join(output, 'note.txt'));
  await link(join(outside, 'dir/index.html'), join(output, 'pages/index.html'));
  await link(join(output, 'real.txt'), join(output, 'alias.txt'));
  await link('sub', join(output, 'section'));
  const get = await serve(t, output);
  for (const path of ['/passwd', '/elsewhere/file.txt', '/elsewhere/', '/elsewhere', '/config.txt', '/note.txt', '/pages/']) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(response.body, /root:|outside|site:|hidden note/, path);
  }
  const alias = await get('/alias.txt');
  assert.equal(alias.status, 200);
  assert.equal(alias.body, 'inside file');
  assert.match(alias.headers['content-type']!, /^text\/plain/);
  assert.equal((await get('/section/')).body, '<p>sub</p>');
});

test('an output folder that is itself a symlink is served as usual', async (t) => {
  const real = await makeFolder(t, { 'rss.xml': '<rss/>' });
  const site = await makeFolder(t, {});
  await link(real, join(site, 'public'));
  const get = await serve(t, join(site, 'public'));
  const response = await get('/rss.xml');
  assert.equal(response.status, 200);
  assert.match(response.headers['content-type']!, /^application\/rss\+xml/);
  assert.equal((await get('/rss.xml', { 'If-None-Match': response.headers.etag! })).status, 304);
  assert.equal((await get('/rss.xml', { 'If-Modified-Since': response.headers['last-modified']! })).status, 304);
  assert.equal((await serve(t, join(site, 'missing')).then((missing) => missing('/rss.xml'))).status, 404);
});

test('an output symlink flipped to a new release is followed at once', async (t) => {
  const first = await makeFolder(t, { 'rss.xml': 'first', 'old.html': 'old' });
  const second = await makeFolder(t, { 'rss.xml': 'second', 'new.html': 'new' });
  const site = await makeFolder(t, {});
  await link(first, join(site, 'public'));
  const get = await serve(t, join(site, 'public'));
  assert.equal((await get('/rss.xml')).body, 'first');
  await rm(join(site, 'public'));
  await link(second, join(site, 'public'));
  assert.equal((await get('/new.html')).body, 'new');
  assert.equal((await get('/rss.xml')).body, 'second');
  assert.equal((await get('/old.html')).status, 404);
});

test('staticSegments decodes before splitting and refuses dot segments', () => {
  assert.deepEqual(staticSegments('/topics/work/rss.xml'), ['topics', 'work', 'rss.xml']);
  assert.deepEqual(staticSegments('/a%2Fb//c/'), ['a', 'b', 'c']);
  assert.deepEqual(staticSegments('/'), []);
  assert.deepEqual(staticSegments('/.well-known/security.txt'), ['.well-known', 'security.txt']);
  for (const path of ['/.', '/..', '/a/%2e%2e/b', '/%2egit/x', '/a/.well-known/x']) {
    assert.throws(() => staticSegments(path), (error: unknown) => error instanceof HttpError && error.status === 404, path);
  }
  assert.throws(() => staticSegments('/%zz'), (error: unknown) => error instanceof HttpError && error.status === 400);
});

/** Serves `output` the way herald's web server does (a target served before from memory first), with the HttpError status as the answer: the body as bytes (compressed answers are not text), any method. */
async function serveBytes(t: TestContext, output: string, site = staticSite(output)): Promise<(path: string, headers?: Record<string, string>, method?: string) => Promise<{ status: number; body: Buffer; headers: IncomingHttpHeaders }>> {
  const server = createServer((req, res) => {
    // The raw request path, as a client sent it: fetch() would normalise %2e%2e away first.
    if (serveKnown(req, res, site)) return;
    serveStatic(req, res, (req.url ?? '/').split('?')[0]!, site).catch((error: unknown) => {
      res.writeHead(error instanceof HttpError ? error.status : 500, error instanceof HttpError ? error.headers : {});
      res.end(error instanceof HttpError ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const { port } = server.address() as AddressInfo;
  return (path, headers = {}, method = 'GET') =>
    new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), headers: res.headers }));
      })
        .on('error', reject)
        .end();
    });
}

/** A folder with files as herald publishes them: writeOutput, so text files get their .br and .gz copies. */
async function published(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await makeFolder(t, {});
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeOutput(join(dir, path), text);
  }
  return dir;
}

const FEED = `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>${'<item><title>A post</title><description>Words, words, words.</description></item>'.repeat(40)}</channel></rss>`;
const decoders: Record<string, (body: Buffer) => Buffer> = { br: brotliDecompressSync, gzip: gunzipSync };

test('a compressed copy is sent to a client that takes it, with its own ETag and Length, and Vary on every answer', async (t) => {
  const output = await published(t, { 'rss.xml': FEED, 'posts/hello/index.html': `<p>${'hello '.repeat(500)}</p>` });
  await writeFile(join(output, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const get = await serveBytes(t, output);
  const plain = await get('/rss.xml');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), FEED);
  assert.equal(plain.headers.vary, 'Accept, Accept-Encoding');
  const etag = plain.headers.etag!;
  for (const [accept, encoding] of [
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['*', 'br'],
    ['br;q=0.5, gzip', 'gzip'],
    ['*;q=0.5, br;q=0', 'gzip'],
  ] as const) {
    const answer = await get('/rss.xml', { 'Accept-Encoding': accept });
    assert.equal(answer.headers['content-encoding'], encoding, accept);
    assert.equal(answer.headers['content-type'], 'application/rss+xml; charset=utf-8', accept);
    assert.equal(answer.headers['content-length'], String(answer.body.length), accept);
    assert.ok(answer.body.length < FEED.length / 4, accept);
    assert.equal(decoders[encoding]!(answer.body).toString(), FEED, accept);
    assert.equal(answer.headers.etag, etag.replace(/"$/, `-${encoding}"`), accept);
    assert.equal(answer.headers.vary, 'Accept, Accept-Encoding');
  }
  for (const accept of ['identity', 'gzip;q=0.5, identity', 'br;q=0, gzip;q=0', 'deflate', '', 'gzip;q=x']) {
    const answer = await get('/rss.xml', { 'Accept-Encoding': accept });
    assert.deepEqual([answer.headers['content-encoding'], answer.headers.etag, answer.body.toString()], [undefined, etag, FEED], accept);
  }
  const page = await get('/posts/hello/', { 'Accept-Encoding': 'gzip, br' });
  assert.deepEqual([page.headers['content-encoding'], page.headers.vary, page.headers['content-type']], ['br', 'Accept-Encoding', 'text/html; charset=utf-8']);
  const head = await get('/rss.xml', { 'Accept-Encoding': 'br' }, 'HEAD');
  assert.deepEqual([head.status, head.headers['content-encoding'], head.body.length], [200, 'br', 0]);
  assert.equal(head.headers['content-length'], String((await get('/rss.xml', { 'Accept-Encoding': 'br' })).body.length));
  // Images are not compressed again; a copy asked for by name is a file like any other.
  const image = await get('/logo.png', { 'Accept-Encoding': 'br, gzip' });
  assert.deepEqual([image.headers['content-encoding'], image.headers.vary, image.body.length], [undefined, undefined, 4]);
  const copy = await get('/rss.xml.gz', { 'Accept-Encoding': 'gzip' });
  assert.deepEqual([copy.headers['content-encoding'], copy.headers['content-type']], [undefined, 'application/gzip']);
  assert.equal(gunzipSync(copy.body).toString(), FEED);
});

test('304 for the variant the client holds: the compressed one it is offered, or the uncompressed one a cache kept', async (t) => {
  const output = await published(t, { 'rss.xml': FEED });
  const get = await serveBytes(t, output);
  const br = await get('/rss.xml', { 'Accept-Encoding': 'br' });
  const identity = await get('/rss.xml');
  const gzip = await get('/rss.xml', { 'Accept-Encoding': 'gzip' });
  const again = await get('/rss.xml', { 'Accept-Encoding': 'br', 'If-None-Match': br.headers.etag! });
  assert.deepEqual([again.status, again.headers.etag, again.headers['content-encoding'], again.headers['content-length'], again.body.length], [304, br.headers.etag, undefined, undefined, 0]);
  assert.equal(again.headers.vary, 'Accept, Accept-Encoding');
  // A cache that kept the plain answer may ask with its ETag: still current, and the 304 names it.
  const kept = await get('/rss.xml', { 'Accept-Encoding': 'br', 'If-None-Match': identity.headers.etag! });
  assert.deepEqual([kept.status, kept.headers.etag], [304, identity.headers.etag]);
  const weak = await get('/rss.xml', { 'Accept-Encoding': 'gzip', 'If-None-Match': `"other", W/${gzip.headers.etag!}` });
  assert.deepEqual([weak.status, weak.headers.etag], [304, gzip.headers.etag]);
  // A client that no longer takes br does not hold the br answer as current.
  const switched = await get('/rss.xml', { 'Accept-Encoding': 'gzip', 'If-None-Match': br.headers.etag! });
  assert.deepEqual([switched.status, switched.headers['content-encoding']], [200, 'gzip']);
  assert.equal((await get('/rss.xml', { 'Accept-Encoding': 'br', 'If-Modified-Since': br.headers['last-modified']! })).status, 304);
  // RFC 9110 13.1.2: * matches any current representation, so an existing file.
  const any = await get('/rss.xml', { 'If-None-Match': '*' });
  assert.deepEqual([any.status, any.headers.etag], [304, identity.headers.etag]);
  assert.equal((await get('/rss.xml', { 'If-None-Match': '*' }, 'HEAD')).status, 304);
  assert.equal((await get('/missing.xml', { 'If-None-Match': '*' })).status, 404);
});

test('a copy older than its file, or missing, is not sent; the file changed, its new copies are', async (t) => {
  const output = await published(t, { 'rss.xml': FEED, 'atom.xml': FEED });
  await rm(join(output, 'atom.xml.br'));
  const get = await serveBytes(t, output);
  assert.equal((await get('/atom.xml', { 'Accept-Encoding': 'br, gzip' })).headers['content-encoding'], 'gzip');
  // A build that crashed between the file and its copies: the copies are the old version's.
  const stale = new Date(Date.now() - 60_000);
  await writeFile(join(output, 'rss.xml'), FEED.replace('News', 'Newer'));
  for (const suffix of ['.br', '.gz']) await utimes(join(output, `rss.xml${suffix}`), stale, stale);
  const answer = await get('/rss.xml', { 'Accept-Encoding': 'br, gzip' });
  assert.deepEqual([answer.headers['content-encoding'], answer.body.toString()], [undefined, FEED.replace('News', 'Newer')]);
  // The next build remakes only the copies (the file's bytes are the same): they are found again.
  await writeOutput(join(output, 'rss.xml'), FEED.replace('News', 'Newer'));
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const remade = await get('/rss.xml', { 'Accept-Encoding': 'br' });
  assert.deepEqual([remade.headers['content-encoding'], brotliDecompressSync(remade.body).toString()], ['br', FEED.replace('News', 'Newer')]);
  await writeOutput(join(output, 'rss.xml'), FEED.replace('News', 'Newest'));
  const changed = await get('/rss.xml', { 'Accept-Encoding': 'br' });
  assert.equal(brotliDecompressSync(changed.body).toString(), FEED.replace('News', 'Newest'));
  assert.notEqual(changed.headers.etag, remade.headers.etag);
});

test('a copy that is a symlink is not followed', async (t) => {
  const outside = await makeFolder(t, { 'secret.txt': 'not for readers' });
  const output = await published(t, { 'page.html': '<p>page</p>' });
  await rm(join(output, 'page.html.gz'));
  await symlink(join(outside, 'secret.txt'), join(output, 'page.html.gz'));
  await utimes(join(outside, 'secret.txt'), new Date(), new Date(Date.now() + 60_000));
  const get = await serveBytes(t, output);
  const answer = await get('/page.html', { 'Accept-Encoding': 'gzip' });
  assert.deepEqual([answer.headers['content-encoding'], answer.body.toString()], [undefined, '<p>page</p>']);
});

test('Accept-Encoding: q-values, *, x-gzip and identity as RFC 9110 12.5.3 reads them', () => {
  const cases: [string | undefined, string[]][] = [
    [undefined, []],
    ['', []],
    ['gzip, deflate, br, zstd', ['br', 'gzip']],
    ['gzip, deflate', ['gzip']],
    ['br;q=0.2, gzip;q=0.8', ['gzip', 'br']],
    ['BR, GZIP', ['br', 'gzip']],
    ['*', ['br', 'gzip']],
    ['*;q=0', []],
    ['gzip;q=0, *', ['br']],
    ['identity;q=1, br;q=0.9', []],
    ['identity, gzip', ['gzip']],
    ['gzip;q=1.5', []],
    ['gzip ; q=0.5 , br ; q=0.4', ['gzip', 'br']],
  ];
  for (const [header, expected] of cases) assert.deepEqual(acceptedEncodings(header), expected, String(header));
});

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';

test('a browser opening RSS or Atom gets it as application/xml, which it shows through the stylesheet; feed readers keep their types', async (t) => {
  const output = await published(t, { 'rss.xml': FEED, 'atom.xml': '<feed xmlns="http://www.w3.org/2005/Atom"/>', 'feed.json': '{}', 'index.html': '<p>home</p>' });
  const get = await serveBytes(t, output);
  const browser = await get('/rss.xml', { Accept: BROWSER_ACCEPT, 'Accept-Encoding': 'br' });
  assert.equal(browser.headers['content-type'], 'application/xml; charset=utf-8');
  assert.equal(browser.headers.vary, 'Accept, Accept-Encoding');
  assert.match(String(browser.headers['content-security-policy']), /; script-src-elem 'self'; script-src-attr 'unsafe-hashes' 'sha256-TXA\+6usvAyONGFuiE99\/kgV7JxYXAtQaottQ4sJDSIw=', script-src-elem \*:\*\/feed\.xsl$/);
  assert.equal((await get('/atom.xml', { Accept: BROWSER_ACCEPT })).headers['content-type'], 'application/xml; charset=utf-8');
  const readers = [undefined, '*/*', 'application/rss+xml, application/atom+xml, text/xml;q=0.9, */*;q=0.8', 'application/rss+xml, text/html;q=0.1', 'text/html, application/rss+xml'];
  for (const accept of readers) {
    const answer = await get('/rss.xml', accept ? { Accept: accept, 'Accept-Encoding': 'br' } : { 'Accept-Encoding': 'br' });
    assert.equal(answer.headers['content-type'], 'application/rss+xml; charset=utf-8', accept);
    // Another type is another representation: caches must not answer one with the other.
    assert.notEqual(answer.headers.etag, browser.headers.etag, accept);
    assert.equal((await get('/rss.xml', { Accept: accept ?? '*/*', 'Accept-Encoding': 'br', 'If-None-Match': browser.headers.etag! })).status, 200, accept);
  }
  assert.equal((await get('/rss.xml', { Accept: BROWSER_ACCEPT, 'Accept-Encoding': 'br', 'If-None-Match': browser.headers.etag! })).status, 304);
  // Only RSS and Atom load the stylesheet: every other answer keeps the strict policy.
  for (const path of ['/feed.json', '/']) {
    const answer = await get(path, { Accept: BROWSER_ACCEPT });
    assert.equal(answer.headers['content-security-policy'], securityHeaders('http://localhost:8080/', 'http://localhost:8080/')['Content-Security-Policy'], path);
    assert.doesNotMatch(answer.headers['content-type']!, /application\/xml/, path);
  }
  assert.equal((await get('/feed.json', { Accept: BROWSER_ACCEPT })).headers.vary, 'Accept-Encoding');
});

test('the feed stylesheet may load only from its own path, below a site path too', () => {
  const policy = (url: string) => feedSecurityHeaders(url, url)['Content-Security-Policy']!;
  assert.match(policy('https://example.com/'), /script-src-elem \*:\*\/feed\.xsl$/);
  assert.match(policy('https://ada.github.io/blog/'), /script-src-elem \*:\*\/blog\/feed\.xsl$/);
  assert.match(policy('https://example.com/a;b,c/'), /script-src-elem \*:\*\/a%3Bb%2Cc\/feed\.xsl$/);
  const [first, second] = policy('https://example.com/').split(', ');
  assert.equal(first, `${securityHeaders('https://example.com/', 'https://example.com/')['Content-Security-Policy']}; script-src-elem 'self'; script-src-attr 'unsafe-hashes' 'sha256-TXA+6usvAyONGFuiE99/kgV7JxYXAtQaottQ4sJDSIw='`);
  assert.equal(second, 'script-src-elem *:*/feed.xsl');
});

test('a file rebuilt or rewritten after it was answered from memory is served fresh at the next request, with a new ETag', async (t) => {
  const output = await published(t, { 'rss.xml': FEED, 'posts/hello/index.html': '<p>hello</p>' });
  const get = await serveBytes(t, output);
  const br = { 'Accept-Encoding': 'br' };
  const first = await get('/rss.xml', br);
  // The second answer comes from memory (serveKnown), as most do.
  assert.equal((await get('/rss.xml', { ...br, 'If-None-Match': first.headers.etag! })).status, 304);
  // A build replaces the file and its copies (a rename each): the very next request sees them.
  await writeOutput(join(output, 'rss.xml'), FEED.replace('News', 'Rebuilt'));
  const rebuilt = await get('/rss.xml', { ...br, 'If-None-Match': first.headers.etag! });
  assert.equal(rebuilt.status, 200);
  assert.equal(brotliDecompressSync(rebuilt.body).toString(), FEED.replace('News', 'Rebuilt'));
  assert.notEqual(rebuilt.headers.etag, first.headers.etag);
  // Rewritten in place, same length: another mtime, so other bytes, and no copy older than them.
  await get('/rss.xml');
  // The file system's clock moves in ticks of a few ms (the kernel's coarse time): rewritten in the
  // very tick its copies were made in, the file would have their mtime and could not be told from
  // them, which no hand edit after a build meets. (This test failed on that once in CI.)
  await new Promise((resolve) => setTimeout(resolve, 30));
  await writeFile(join(output, 'rss.xml'), FEED.replace('News', 'Newer'));
  const rewritten = await get('/rss.xml', br);
  assert.deepEqual([rewritten.headers['content-encoding'], rewritten.body.toString()], [undefined, FEED.replace('News', 'Newer')]);
  assert.notEqual(rewritten.headers.etag, rebuilt.headers.etag!.replace(/-br"$/, '"'));
  // Another file renamed over it, of the same length and given the same mtime (cp -p, rsync -t).
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  await utimes(join(output, 'rss.xml'), mtime, mtime);
  await get('/rss.xml');
  assert.equal((await get('/rss.xml')).body.toString(), FEED.replace('News', 'Newer'));
  await writeFile(join(output, 'rss.xml.next'), FEED.replace('News', 'Other'));
  await utimes(join(output, 'rss.xml.next'), mtime, mtime);
  await rename(join(output, 'rss.xml.next'), join(output, 'rss.xml'));
  assert.equal((await get('/rss.xml')).body.toString(), FEED.replace('News', 'Other'));
  assert.equal((await get('/posts/hello/')).body.toString(), '<p>hello</p>');
  await writeOutput(join(output, 'posts/hello/index.html'), '<p>hello again</p>');
  assert.equal((await get('/posts/hello/')).body.toString(), '<p>hello again</p>');
  await rm(join(output, 'posts/hello'), { recursive: true });
  assert.equal((await get('/posts/hello/')).status, 404);
});

test('an address answered from memory follows the folder: a symlink re-pointed, a page shadowed by its own name, a file removed', async (t) => {
  const outside = await makeFolder(t, { 'secret.txt': 'not for readers' });
  const output = await published(t, { 'real.txt': 'real', 'other.txt': 'other', 'about.html': '<p>about page</p>', 'gone.txt': 'gone' });
  await symlink(join(output, 'real.txt'), join(output, 'alias.txt'));
  const get = await serveBytes(t, output);
  for (let i = 0; i < 2; i++) {
    assert.equal((await get('/alias.txt')).body.toString(), 'real');
    assert.equal((await get('/about')).body.toString(), '<p>about page</p>');
    assert.equal((await get('/gone.txt')).body.toString(), 'gone');
  }
  await rm(join(output, 'alias.txt'));
  await symlink(join(output, 'other.txt'), join(output, 'alias.txt'));
  assert.equal((await get('/alias.txt')).body.toString(), 'other');
  await rm(join(output, 'alias.txt'));
  await symlink(join(outside, 'secret.txt'), join(output, 'alias.txt'));
  const escaped = await get('/alias.txt');
  assert.deepEqual([escaped.status, /not for readers/.test(escaped.body.toString())], [404, false]);
  // A file named like the page's address now exists: it wins over about.html, as on a first request.
  await writeFile(join(output, 'about'), 'the file itself');
  assert.equal((await get('/about')).body.toString(), 'the file itself');
  await rm(join(output, 'gone.txt'));
  assert.equal((await get('/gone.txt')).status, 404);
});

test('answers from memory are the answers a first request gets, byte for byte, for every variant and method', async (t) => {
  const output = await published(t, { 'rss.xml': FEED, 'index.html': `<p>${'home '.repeat(100)}</p>`, 'logo.png': 'PNG' });
  const asked: [string, Record<string, string>, string][] = [
    ['/rss.xml', { 'Accept-Encoding': 'br' }, 'GET'],
    ['/rss.xml', { 'Accept-Encoding': 'gzip' }, 'GET'],
    ['/rss.xml', {}, 'GET'],
    ['/rss.xml', { Accept: BROWSER_ACCEPT, 'Accept-Encoding': 'br' }, 'GET'],
    ['/rss.xml', { 'Accept-Encoding': 'br' }, 'HEAD'],
    ['/', { 'Accept-Encoding': 'gzip, br' }, 'GET'],
    ['/logo.png', { 'Accept-Encoding': 'gzip, br' }, 'GET'],
  ];
  // A server that never answers from memory, against the one herald runs.
  const fresh = createServer((req, res) => void serveStatic(req, res, (req.url ?? '/').split('?')[0]!, staticSite(output)));
  await new Promise<void>((resolve) => fresh.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    fresh.close(() => resolve());
    fresh.closeAllConnections();
  }));
  const freshPort = (fresh.address() as AddressInfo).port;
  const get = await serveBytes(t, output);
  const raw = (port: number, path: string, headers: Record<string, string>, method: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
  for (const [path, headers, method] of asked) {
    await get(path, headers, method);
    const known = await get(path, headers, method);
    const first = await raw(freshPort, path, headers, method);
    const without = (answer: { headers: IncomingHttpHeaders }) => ({ ...answer.headers, date: undefined, connection: undefined, 'keep-alive': undefined });
    assert.deepEqual([known.status, without(known), known.body], [first.status, without(first), first.body], `${method} ${path} ${JSON.stringify(headers)}`);
    const etag = first.headers.etag!;
    assert.equal((await get(path, { ...headers, 'If-None-Match': etag }, method)).status, 304, path);
    assert.equal((await get(path, { ...headers, 'If-None-Match': '*' }, method)).status, 304, path);
    assert.equal((await get(path, { ...headers, 'If-Modified-Since': first.headers['last-modified']! }, method)).status, 304, path);
    assert.equal((await get(path, { ...headers, 'If-None-Match': '"other"' }, method)).status, 200, path);
  }
});

test('a file too large to keep in memory is streamed, with its fresh copy, an ETag from stat, 304s and HEADs that read nothing; a file over 2 GiB too', async (t) => {
  const big = Buffer.alloc(3 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const text = 'A line of a large text file, compressible.\n'.repeat(80_000);
  const output = await published(t, { 'notes.txt': text });
  await writeFile(join(output, 'episode.mp3'), big);
  // Sparse: 3 GiB on no disk. Reading it whole, as before, failed with a 500.
  await writeFile(join(output, 'huge.bin'), '');
  await truncate(join(output, 'huge.bin'), 3 * 1024 ** 3);
  const get = await serveBytes(t, output);

  const audio = await get('/episode.mp3');
  assert.equal(audio.status, 200);
  assert.equal(audio.headers['content-type'], 'audio/mpeg');
  assert.equal(audio.headers['content-length'], String(big.length));
  assert.ok(audio.body.equals(big), 'the bytes on disk');
  assert.match(audio.headers.etag ?? '', /^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/);
  assert.equal((await get('/episode.mp3', { 'If-None-Match': audio.headers.etag! })).status, 304);
  assert.equal((await get('/episode.mp3', { 'If-Modified-Since': audio.headers['last-modified']! })).status, 304);
  const head = await get('/huge.bin', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(3 * 1024 ** 3));
  assert.equal(head.body.length, 0);

  const gzip = await get('/notes.txt', { 'Accept-Encoding': 'gzip' });
  assert.equal(gzip.headers['content-encoding'], 'gzip');
  assert.equal(gzip.headers.vary, 'Accept-Encoding');
  assert.equal(gzip.headers['content-length'], String(gzip.body.length));
  assert.equal(gunzipSync(gzip.body).toString(), text);
  assert.match(gzip.headers.etag ?? '', /-gzip"$/);
  const plain = await get('/notes.txt');
  assert.equal(plain.body.toString(), text);
  assert.notEqual(plain.headers.etag, gzip.headers.etag);
  // The file rewritten: a new ETag, and its copy, now older than it, is not sent.
  await writeFile(join(output, 'notes.txt'), text.toUpperCase());
  const after = await get('/notes.txt', { 'Accept-Encoding': 'gzip', 'If-None-Match': plain.headers.etag! });
  assert.equal(after.status, 200);
  assert.equal(after.headers['content-encoding'], undefined);
  assert.equal(after.body.toString(), text.toUpperCase());
});

test('a folder named without its trailing slash is a redirect to it; a file named with one is not found', async (t) => {
  const output = await makeFolder(t, { 'sub/index.html': '<a href="page.html">relative</a>', 'notes.txt': 'notes', 'index.html': 'home' });
  const get = await serve(t, output);
  const moved = await get('/sub?from=feed');
  assert.equal(moved.status, 301);
  // Relative to the address asked for: never another host, however the target is written.
  assert.equal(moved.headers.location, 'sub/?from=feed');
  for (const target of ['//sub', '/\\sub', '/%5Csub']) {
    const answer = await get(target);
    if (answer.status === 301) assert.match(answer.headers.location ?? '', /^(sub|%5Csub)\/$/, target);
  }
  assert.equal((await get('/sub/')).body, '<a href="page.html">relative</a>');
  assert.equal((await get('/')).body, 'home');
  assert.equal((await get('/notes.txt/')).status, 404);
  assert.equal((await get('/notes.txt')).body, 'notes');
});

test('If-Modified-Since that is not an HTTP-date is ignored; a feed whose name has no known extension still varies on Accept', async (t) => {
  const output = await makeFolder(t, { 'notes.txt': 'notes', 'feed.rss': FEED });
  const site = { ...staticSite(output), feedTypes: feedTypes({ rss: 'feed.rss', atom: 'index.atom', json: 'feed.json' }) };
  const get = await serveBytes(t, output, site);
  const first = await get('/notes.txt');
  for (const value of ['3000', '2099-01-01', 'tomorrow']) assert.equal((await get('/notes.txt', { 'If-Modified-Since': value })).status, 200, value);
  assert.equal((await get('/notes.txt', { 'If-Modified-Since': first.headers['last-modified']! })).status, 304);
  assert.equal((await get('/notes.txt', { 'If-Modified-Since': 'Fri Jan  1 00:00:00 2100' })).status, 304, 'asctime is an HTTP-date');
  const reader = await get('/feed.rss', { Accept: 'application/rss+xml' });
  const browser = await get('/feed.rss', { Accept: BROWSER_ACCEPT });
  assert.equal(reader.headers['content-type'], 'application/rss+xml; charset=utf-8');
  assert.equal(browser.headers['content-type'], 'application/xml; charset=utf-8');
  for (const answer of [reader, browser]) assert.match(answer.headers.vary ?? '', /^Accept, Accept-Encoding$/);
});

test('a copy as new as its file but of other bytes is not sent: a file put back with its old mtime, a writer\'s own x.html.gz', async (t) => {
  const output = await published(t, { 'robots.txt': 'User-agent: *\nAllow: /\n' });
  // The file put back as it was a minute ago (cp -p, rsync -a), its copies left from a later version.
  const old = new Date(Date.now() - 60_000);
  await writeFile(join(output, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
  await utimes(join(output, 'robots.txt'), old, old);
  const get = await serveBytes(t, output);
  for (const encoding of ['br', 'gzip']) {
    const answer = await get('/robots.txt', { 'Accept-Encoding': encoding });
    assert.equal(answer.headers['content-encoding'], undefined, encoding);
    assert.equal(answer.body.toString(), 'User-agent: *\nDisallow: /\n');
  }
  // Not compressed at all, written after the page.
  await writeFile(join(output, 'x.html'), '<p>page</p>');
  await writeFile(join(output, 'x.html.gz'), 'my own notes, not gzip');
  const page = await get('/x.html', { 'Accept-Encoding': 'gzip' });
  assert.deepEqual([page.headers['content-encoding'], page.body.toString()], [undefined, '<p>page</p>']);
});

test('a large file\'s copy as new as it but of other bytes is not sent either', async (t) => {
  const text = 'NEW '.repeat(400_000);
  const output = await makeFolder(t, { 'big.txt': text });
  const { gzipSync } = await import('node:zlib');
  await writeFile(join(output, 'big.txt.gz'), gzipSync('OLD STALE CONTENT'));
  const later = new Date(Date.now() + 2000);
  await utimes(join(output, 'big.txt.gz'), later, later);
  const get = await serveBytes(t, output);
  const answer = await get('/big.txt', { 'Accept-Encoding': 'gzip' });
  assert.equal(answer.headers['content-encoding'], undefined);
  assert.equal(answer.body.toString(), text);
  // Its real copy is sent, to a burst of first requests too (the check is made once for them all).
  await writeFile(join(output, 'big.txt.gz'), gzipSync(text));
  await utimes(join(output, 'big.txt.gz'), later, later);
  for (const good of await Promise.all(Array.from({ length: 12 }, () => get('/big.txt', { 'Accept-Encoding': 'gzip' })))) {
    assert.equal(good.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(good.body).toString(), text);
  }
});

test('a large file answers a byte range with 206 (a player seeking in an episode), a range past its end with 416, an If-Range of another version with the whole file', async (t) => {
  const big = Buffer.alloc(2 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 253;
  const output = await makeFolder(t, {});
  await writeFile(join(output, 'episode.mp3'), big);
  const get = await serveBytes(t, output);
  const whole = await get('/episode.mp3');
  assert.equal(whole.headers['accept-ranges'], 'bytes');
  const part = await get('/episode.mp3', { Range: 'bytes=100-199' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 100-199/${big.length}`);
  assert.equal(part.headers['content-length'], '100');
  assert.ok(part.body.equals(big.subarray(100, 200)));
  const tail = await get('/episode.mp3', { Range: 'bytes=-10' });
  assert.ok(tail.body.equals(big.subarray(big.length - 10)));
  const open = await get('/episode.mp3', { Range: `bytes=${big.length - 5}-` });
  assert.ok(open.body.equals(big.subarray(big.length - 5)));
  const past = await get('/episode.mp3', { Range: `bytes=${big.length}-` });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], `bytes */${big.length}`);
  assert.equal((await get('/episode.mp3', { Range: 'bytes=0-1', 'If-Range': whole.headers.etag! })).status, 206);
  const changed = await get('/episode.mp3', { Range: 'bytes=0-1', 'If-Range': '"another-version"' });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.length, big.length);
  // Several ranges: the whole file, as RFC 9110 allows.
  assert.equal((await get('/episode.mp3', { Range: 'bytes=0-1,5-6' })).status, 200);
});
