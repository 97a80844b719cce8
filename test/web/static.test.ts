import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { HttpError, securityHeaders } from '../../src/web/http.js';
import { feedTypes, serveStatic, staticSegments } from '../../src/web/static.js';

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

/** Serves `output` the way herald's web server does, with the HttpError status as the answer. */
async function serve(t: TestContext, output: string): Promise<(path: string, headers?: Record<string, string>) => Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>> {
  const server = createServer((req, res) => {
    // The raw request path, as a client sent it: fetch() would normalise %2e%2e away first.
    serveStatic(req, res, (req.url ?? '/').split('?')[0]!, { outputDir: output, headers: securityHeaders('http://localhost:8080/', 'http://localhost:8080/'), feedTypes: feedTypes({ rss: 'rss.xml', atom: 'atom.xml', json: 'feed.json' }) }).catch((error: unknown) => {
      res.writeHead(error instanceof HttpError ? error.status : 500);
      res.end(error instanceof HttpError ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const { port } = server.address() as AddressInfo;
  return (path, headers = {}) =>
    new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      })
        .on('error', reject)
        .end();
    });
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
  });
  const get = await serve(t, join(site, 'public'));
  assert.equal((await get('/')).body, '<p>home</p>');
  assert.equal((await get('/posts/hello/')).body, '<p>hello</p>');
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
  for (const path of ['/.', '/..', '/a/%2e%2e/b', '/%2ewell-known/x']) {
    assert.throws(() => staticSegments(path), (error: unknown) => error instanceof HttpError && error.status === 404, path);
  }
  assert.throws(() => staticSegments('/%zz'), (error: unknown) => error instanceof HttpError && error.status === 400);
});
