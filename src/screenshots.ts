// Screenshots of an email's HTML part as phones and desktops show it, light and dark, through
// Chromium and playwright-core. Both are optional: without them, preview says how to get them.
import { existsSync } from 'node:fs';

const WIDTHS = [375, 800] as const;
const SCHEMES = ['light', 'dark'] as const;
// Debian's and most distributions' Chromium; HERALD_CHROMIUM names another.
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export type ScreenshotResult = { ok: true; files: string[] } | { ok: false; reason: string };

/** Writes `<base>-<width>-<scheme>.png` for each width and colour scheme. */
export async function screenshotEmail(html: string, base: string, env: NodeJS.ProcessEnv): Promise<ScreenshotResult> {
  if (env.HERALD_CHROMIUM && !existsSync(env.HERALD_CHROMIUM)) return { ok: false, reason: `HERALD_CHROMIUM is ${env.HERALD_CHROMIUM}, which does not exist` };
  const executablePath = env.HERALD_CHROMIUM || CHROMIUM_PATHS.find((path) => existsSync(path));
  if (!executablePath) return { ok: false, reason: 'no Chromium found (apt-get install chromium, or set HERALD_CHROMIUM to a Chrome or Chromium binary)' };
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { ok: false, reason: 'playwright-core is not installed (npm install playwright-core)' };
  }
  const browser = await chromium.launch({ executablePath, args: FLAGS });
  try {
    const files: string[] = [];
    for (const width of WIDTHS) {
      for (const colorScheme of SCHEMES) {
        const file = `${base}-${width}-${colorScheme}.png`;
        // Chromium sometimes answers "Unable to capture screenshot" when its renderer is busy (seen
        // in CI on a loaded machine): a second page, once, before giving up.
        for (let attempt = 1; ; attempt++) {
          // Offline, as a mail client that blocks remote images until asked.
          const page = await browser.newPage({ viewport: { width, height: 800 }, colorScheme, offline: true });
          try {
            await page.setContent(html, { waitUntil: 'load', timeout: 15_000 });
            await page.screenshot({ path: file, fullPage: true });
            break;
          } catch (error) {
            if (attempt >= 2 || !/Unable to capture screenshot/.test((error as Error).message)) throw error;
          } finally {
            await page.close();
          }
        }
        files.push(file);
      }
    }
    return { ok: true, files };
  } finally {
    await browser.close();
  }
}
