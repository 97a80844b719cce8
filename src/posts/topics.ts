// What names a topic's folder (topics/<slug>/), and which topic names end up sharing one. Light on
// purpose: config.ts compares posts.ignoreTopics by the same slug, and loads this with the config.
import { slug as githubSlug } from 'github-slugger';
import type { Problem } from '../errors.js';
import type { PostMeta } from './parse.js';

// github-slugger drops every symbol, so C, C++ and C# would share topics/c/. These symbols name
// something (languages, "R&D", "@home"), so they are spelled out instead; a name without them
// slugs exactly as before, so existing topic feeds keep their addresses.
const SPELLED = /[+#&@]/;
const WORDS: Record<string, string> = { '+': 'plus', '#': 'sharp', '&': 'and', '@': 'at' };

/** The topic's slug: C → c, C++ → c-plus-plus, C# → c-sharp, R&D → r-and-d; '' for a name with nothing to slug. */
export function topicSlug(name: string): string {
  if (!SPELLED.test(name)) return githubSlug(name);
  // '#' after a letter, digit or + is "sharp" (C#, F#, C++#); a leading one is a hashtag's mark.
  const spelled = name.replace(/(?<=[\p{L}\p{N}+])#|[+&@]/gu, (symbol) => ` ${WORDS[symbol]} `);
  return githubSlug(spelled.trim().replace(/\s+/g, ' '));
}

/** Beyond this many files a spelling's list ends in "and N more". */
const FILES_SHOWN = 3;

/**
 * Topic names that differ only in case or punctuation ("Web Dev", "web-dev") share a slug, so
 * their posts share one feed and page under one of the names: one warning per slug, naming each
 * spelling with the files that use it and suggesting the commonest.
 */
export function topicClashes(posts: readonly PostMeta[]): Problem[] {
  const bySlug = new Map<string, Map<string, string[]>>();
  for (const post of posts) {
    for (const { name, slug } of post.topics) {
      let spellings = bySlug.get(slug);
      if (!spellings) bySlug.set(slug, (spellings = new Map()));
      const files = spellings.get(name);
      if (files) files.push(post.file);
      else spellings.set(name, [post.file]);
    }
  }
  const problems: Problem[] = [];
  for (const [slug, spellings] of bySlug) {
    if (spellings.size < 2) continue;
    // The spelling most posts use is the least to change; a tie goes to the one met first.
    const names = [...spellings.keys()];
    const suggested = names.reduce((best, name) => (spellings.get(name)!.length > spellings.get(best)!.length ? name : best));
    const listed = names.map((name) => {
      const files = spellings.get(name)!;
      const more = files.length > FILES_SHOWN ? ` and ${files.length - FILES_SHOWN} more` : '';
      return `"${name}" (${files.slice(0, FILES_SHOWN).join(', ')}${more})`;
    });
    const other = names.find((name) => name !== suggested)!;
    problems.push({
      code: 'E_POST_FIELD',
      file: spellings.get(other)![0],
      field: 'topics',
      message: `topics ${listed.slice(0, -1).join(', ')} and ${listed.at(-1)} are one topic to herald (topics/${slug}/): their posts share one feed and page, under one of the names`,
      hint: `write it one way in every post, for example "${suggested}"`,
    });
  }
  return problems;
}
