// Which generator built a blog, by the config file it keeps: Jekyll's _config.yml, Hugo's
// hugo.toml (or config.toml beside content/), Eleventy's eleventy.config.js.
import { HeraldError } from '../errors.js';
import { ELEVENTY_CONFIGS, planEleventy } from './eleventy.js';
import { HUGO_CONFIGS, planHugo } from './hugo.js';
import { JEKYLL_CONFIGS, planJekyll } from './jekyll.js';
import type { InitPlan } from './plan.js';
import type { SourceTree } from './tree.js';

/** The plan for the blog in `tree`; `shown` is its folder as the user named it. */
export function planFrom(tree: SourceTree, shown: string): InitPlan {
  const has = (name: string) => tree.read(name) !== undefined;
  if (JEKYLL_CONFIGS.some(has)) return planJekyll(tree, shown);
  // config.toml and config.yaml are common names: they mean Hugo beside Hugo's folders.
  const hugoFolders = ['content', 'archetypes', 'layouts', 'themes'].some((folder) => tree.isFolder(folder));
  if (HUGO_CONFIGS.some((name) => has(name) && (name.startsWith('hugo.') || hugoFolders)) || tree.isFolder('config/_default')) return planHugo(tree, shown);
  if (ELEVENTY_CONFIGS.some(has) || /"@11ty\/eleventy"/.test(tree.read('package.json') ?? '')) return planEleventy(tree);
  throw new HeraldError({
    code: 'E_USAGE',
    file: shown,
    message: 'is not a Jekyll, Hugo or Eleventy blog herald can read: it has no _config.yml, hugo.toml (or config.toml), nor eleventy.config.js',
    hint: "give --from the blog's own folder, the one holding that file",
  });
}
