// node bench/parse-floor.js DIR: stats every post in DIR, reads it and parses its front matter with
// gray-matter and js-yaml, as herald must, and nothing else: no dates, no feeds, no cache. The bench
// times it as the floor under a first build by any Node tool built on those two libraries.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import matter from 'gray-matter';
import yaml from 'js-yaml';

const dir = process.argv[2];
const engines = { yaml: (text) => yaml.load(text, { schema: yaml.CORE_SCHEMA }) ?? {} };
let titles = 0;
for (const name of readdirSync(dir)) {
  const path = join(dir, name);
  if (!statSync(path).isFile()) continue;
  // Only the front block goes to gray-matter, as herald does: it copies whatever it is given.
  const text = readFileSync(path, 'utf8');
  const end = text.indexOf('\n---', 3);
  if (matter(end < 0 ? text : text.slice(0, end + 4), { engines }).data.title) titles++;
}
if (!titles) process.exitCode = 1;
