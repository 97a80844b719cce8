// The files herald init makes for a new site: a config that explains itself, one example post,
// and a .gitignore that keeps readers' data and the signing secret out of git.

export interface NewSite {
  config: string;
  /** The example post's path below the site's folder, and its text. */
  post: { path: string; slug: string; text: string };
  gitignore: string;
}

/** `today` is YYYY-MM-DD in `timezone`, so the example post is published at once. */
export function newSite(options: { timezone: string; today: string }): NewSite {
  const { timezone, today } = options;
  const slug = 'welcome';
  return {
    config: config(timezone),
    post: { path: `posts/${today}-${slug}.md`, slug, text: examplePost(today, slug) },
    gitignore: GITIGNORE,
  };
}

/** Of the folders a .gitignore should name (herald's state, outbox and output), those `existing` lacks. */
export function missingIgnores(existing: string, output = 'public'): string[] {
  const lines = new Set(existing.split(/\r?\n/).map((line) => line.trim().replace(/^\//, '').replace(/\/$/, '')));
  return ['.herald/', 'outbox/', `${output}/`].filter((entry) => !lines.has(entry.replace(/\/$/, '')));
}

export const GITIGNORE = `# herald's private files, never for git (least of all a public repository):
# .herald/ holds the subscriber database (readers' names and email addresses, what was sent to
# whom), the secret that signs every unsubscribe link, and the build state; outbox/ holds emails
# addressed to readers, written there while no SMTP server is set.
.herald/
outbox/
# public/ is what herald build and herald start make from posts/: rebuilt, not committed.
public/
`;

function config(timezone: string): string {
  return `# herald's settings. Every key can be left out (herald's default applies); "Configuration" in
# herald's README lists them all. Paths are relative to this file.

site:
  title: My newsletter                # the name on the archive, the feeds and every email
  # Where readers find the site: every link in feeds and emails starts here, so set it to the
  # public address (https://...) before the first email goes out. Unset, the links follow where
  # herald start serves (http://localhost:8080/, or the --port given).
  # url: https://news.example.com/
  description: Notes, sent as they are written.   # the feeds' description and the archive's subtitle
  author:
    name: The writer                  # the feeds' author (a post's own author: wins)
    # email: you@example.com          # shown in the feeds; leave it out to keep it private
  # An IANA zone name: a post dated "2026-02-10 14:00" is published at 14:00 here.
  timezone: ${timezone}
  language: en                        # a language tag such as en or pt-BR, for feeds, pages and dates

# The folder of markdown posts (subfolders are fine). herald init --from DIR writes a config that
# reads an existing Jekyll, Hugo or Eleventy blog where it is instead.
posts: posts

# Where a post's page is: {slug} (the file name less its date and .md, or the post's slug:), {title},
# {year}, {month}, {day} and {categories}. Ending in / it is a folder; in .html, that file.
permalink: /{slug}/

feed:
  limit: 20                           # the newest posts each feed holds
  paths:                              # where the feeds are written below public/ (and each topic's folder)
    rss: rss.xml
    atom: atom.xml
    json: feed.json
  ids: url                            # entry ids: the post's URL (jekyll: as jekyll-feed makes them)

email:
  # Who subscribers' emails come from. Use an address at your own domain that your SMTP server
  # may send for, or mail lands in spam; replies come back to it unless replyTo: is set.
  from: "My newsletter <newsletter@example.com>"
  mode: each                          # each: one email per post; digest: one email per pass
  # Your postal address (a street address or a PO box), shown in every email's footer: the law
  # asks it of commercial mail in several countries, and herald check warns while it is missing.
  # address: 12 Harbour Lane, Bristol BS1 4AA, UK

# The SMTP server that sends mail. Better set in the environment as HERALD_SMTP_URL, which wins
# over smtp.url and keeps the password out of this file and out of git. While neither is set,
# mail is written to outbox/ as .eml files and nothing is sent: the safe way to try herald.
# smtp:
#   url: smtps://user:password@smtp.example.com:465
#   name: mail.example.com            # the name herald gives in EHLO (default: email.from's domain)

# When herald start looks for due posts and mails them: a cron expression, in site.timezone.
schedule: "*/10 * * * *"

# herald start's web side: the archive, the feeds, the subscribe form and unsubscribe links.
web:
  # Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed, so limits
  # apply to readers rather than to the proxy. Empty: the header is ignored, as anyone can send it.
  trustProxy: []
  subscribeLimit: 20                  # subscribe requests one client may make a minute
`;
}

function examplePost(today: string, slug: string): string {
  return `---
title: Welcome
date: ${today}
topics: [news]
---

This is an example post: a markdown file in \`posts/\`. Edit it, or delete it and write your own.

How a post is written:

- Between the \`---\` lines is what the post is: its \`title\`, its \`date\` (\`${today}\`, or
  \`${today} 14:00\` in the site's time zone) and, if you like, \`topics\`: each topic gets feeds
  of its own under \`topics/\`. \`draft: true\` keeps a post out of everything while you write.
- A post is published when its date comes: one dated later waits until then, with nothing to do.
- The file name, less the date in front and \`.md\`, is the post's address: this one is at
  \`/${slug}/\`. A \`slug:\` line chooses another.
- The rest is GitHub-flavoured markdown: **bold**, [links](https://commonmark.org/help/), lists,
  tables and fenced code.

\`herald start\` puts each post in the feeds and the archive and mails it to subscribers, once.
On its very first pass it only notes the posts already out (this one too), so nobody is mailed
old posts; \`herald send ${slug} --to you@example.com\` shows you one as an email.
`;
}
