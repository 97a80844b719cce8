// Writes N sample posts for benchmarks: a JavaScript port of shared/gen-corpus.py (same shapes:
// title, ISO date two hours apart, one or two topics, paragraphs, code, lists, quotes), seeded so
// every run writes the same files.
// usage: node bench/gen-corpus.js N OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump whenever the posts this writes change, so bench/run.js regenerates its corpus. */
export const GENERATOR_VERSION = 2;

const WORDS = ('product manager code build ship email feed reader subscriber markdown template render ' +
  'worker schedule cron deliver queue retry latency throughput design user data experiment ' +
  'team agent vibe coding app mobile backend system').split(' ');
const TOPICS = ['work', 'tech', 'life', 'travel', 'books', 'music'];

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateCorpus(count, dir) {
  mkdirSync(dir, { recursive: true });
  const random = mulberry32(42);
  const below = (n) => Math.floor(random() * n);
  const int = (low, high) => low + below(high - low + 1);
  const pick = (list) => list[below(list.length)];
  // Python's random.sample: k distinct items, in draw order. (Sorting with a random comparator
  // would be biased and would depend on the engine's sort algorithm.)
  const sample = (list, k) => {
    const pool = [...list];
    return Array.from({ length: k }, (_, i) => {
      const j = below(pool.length - i);
      const chosen = pool[j];
      pool[j] = pool[pool.length - i - 1];
      return chosen;
    });
  };
  const words = (low, high) => Array.from({ length: int(low, high) }, () => pick(WORDS));
  const sentence = () => {
    const text = words(8, 20).join(' ');
    return `${text[0].toUpperCase()}${text.slice(1)}.`;
  };
  const start = Date.UTC(2000, 0, 1);
  for (let i = 0; i < count; i++) {
    const date = new Date(start + i * 2 * 3600 * 1000).toISOString().replace('.000Z', 'Z');
    const title = words(3, 7).map((word) => word[0].toUpperCase() + word.slice(1)).join(' ');
    const paragraphs = Array.from({ length: int(3, 8) }, () => Array.from({ length: int(2, 5) }, sentence).join(' '));
    if (i % 3 === 0) paragraphs.push(`\`\`\`js\nconst x = ${i};\nconsole.log(\`post \${x}\`);\n\`\`\``);
    if (i % 4 === 0) paragraphs.push(Array.from({ length: 4 }, (_, j) => `- item ${pick(WORDS)} with [a link](https://example.com/${i}/${j})`).join('\n'));
    if (i % 5 === 0) paragraphs.push(`## A heading ${i}\n\n> a quote about ${pick(WORDS)}`);
    const topics = sample(TOPICS, int(1, 2));
    const front = `---\ntitle: "${title} ${i}"\ndate: ${date}\ntopics: [${topics.join(', ')}]\n---\n\n`;
    writeFileSync(join(dir, `${String(i).padStart(5, '0')}-post.md`), `${front}${paragraphs.join('\n\n')}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [count, dir] = [Number(process.argv[2]), process.argv[3]];
  if (!Number.isInteger(count) || count < 0 || !dir) {
    console.error('usage: node bench/gen-corpus.js N OUTDIR');
    process.exit(2);
  }
  generateCorpus(count, dir);
}
