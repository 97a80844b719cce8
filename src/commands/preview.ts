import { join, relative, resolve } from 'node:path';
import { HeraldError } from '../errors.js';
import { writeFileAtomic } from '../files.js';
import type { PostMeta } from '../posts/parse.js';
import { withApp, type CommandContext } from './context.js';
import { readPosts } from '../build.js';

/** A post named by slug or by file path. */
export async function findPost({ config, io }: CommandContext, name: string): Promise<PostMeta> {
  const { posts } = await readPosts(config, io.cwd);
  const path = resolve(io.cwd, name);
  const post = posts.find((candidate) => candidate.slug === name || resolve(io.cwd, candidate.file) === path);
  if (post) return post;
  const near = posts.filter((candidate) => candidate.slug.includes(name.replace(/\.md$/, '').split('/').pop() ?? name)).slice(0, 3);
  throw new HeraldError({
    code: 'E_USAGE',
    field: 'POST',
    message: `no post with slug or file "${name}"`,
    hint: near.length ? `did you mean ${near.map((candidate) => candidate.slug).join(', ')}?` : 'run herald status to see every post and its slug',
  });
}

export async function previewCommand(context: CommandContext, name: string): Promise<number> {
  const { config, io } = context;
  const post = await findPost(context, name);
  return withApp(context, async ({ newsletter }) => {
    const email = await newsletter.preview(post, { name: 'Ada Reader', email: 'reader@example.com' });
    const base = join(config.paths.state, 'preview', post.slug);
    await writeFileAtomic(`${base}.html`, email.html, { durable: false, mode: 0o600, dirMode: 0o700 });
    await writeFileAtomic(`${base}.txt`, email.text, { durable: false, mode: 0o600, dirMode: 0o700 });
    io.out(`subject: ${email.subject}`);
    io.out(`html: ${relative(io.cwd, `${base}.html`)}`);
    io.out(`text: ${relative(io.cwd, `${base}.txt`)}`);
    const kb = (text: string) => (Buffer.byteLength(text) / 1024).toFixed(1);
    io.out(`size: HTML ${kb(email.html)} KB (Gmail clips after 102 KB), text ${kb(email.text)} KB`);
    const { screenshotEmail } = await import('../screenshots.js');
    const shots = await screenshotEmail(email.html, base, io.env);
    if (shots.ok) io.out(`screenshots: ${shots.files.map((file) => relative(io.cwd, file)).join(', ')}`);
    else io.err(`no screenshots: ${shots.reason}`);
    for (const warning of email.warnings) io.err(`warning: ${warning}`);
    return 0;
  });
}
