import cron from 'node-cron';
import type { Server } from 'node:http';
import { createServer, isIPv4, isIPv6, type AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { HeraldError } from '../errors.js';
import { FolderWatch } from '../watch.js';
import { closeServer, createWebServer } from '../web/server.js';
import { buildInputs, type BuildMemory } from '../build.js';
import { clockFrom } from '../clock.js';
import { notifiedLine } from './build.js';
import { withApp, withDefaultSiteUrl, type CommandContext } from './context.js';
import { baselineLine, pass, printSendReport } from './send.js';

export function validateSchedule(config: Config): void {
  const { schedule } = config;
  if (cron.validate(schedule)) return;
  throw new HeraldError({
    code: 'E_CONFIG',
    file: config.file,
    field: 'schedule',
    message: `"schedule" ${JSON.stringify(schedule)} is not a cron expression`,
    hint: 'write five fields, minute hour day month weekday, such as "*/10 * * * *" for every 10 minutes (a sixth, leading field is seconds)',
  });
}

/**
 * herald start: the long-running worker. A pass at once, then one on every tick of the schedule,
 * never two at a time; the web side in the same process, on the same newsletter core and clock.
 * SIGINT or SIGTERM stops it cleanly.
 */
export async function startCommand(given: CommandContext, options: { port?: string; host?: string; http: boolean }): Promise<number> {
  const { io } = given;
  validateSchedule(given.config);
  let port = Number(options.port ?? io.env.PORT ?? 8080);
  const host = options.host ?? '127.0.0.1';
  if (options.http && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new HeraldError({ code: 'E_USAGE', field: '--port', message: `port "${options.port ?? io.env.PORT}" is not a port number`, hint: 'give a whole number from 1 to 65535, such as --port 8080' });
  }
  // With the embedded default site.url, every link (feeds, pages, emails, the forms) points at
  // where this herald listens. The links are made before the server listens: port 0's port is
  // chosen first.
  const follow = options.http && given.config.siteUrlIsDefault;
  if (follow && port === 0) port = (await freePort(host)) ?? 0;
  const context = follow ? withDefaultSiteUrl(given, siteUrlServedAt(host, port)) : given;
  const { config } = context;
  // The worker's clock runs on from --now, so ticks and scheduled posts still come.
  const running = { ...context, clock: clockFrom(context.nowGiven, 'on') };
  return withApp(running, async (app) => {
    if ('checkpointInBackground' in app.store) app.store.checkpointInBackground();
    const log = (line: string) => io.out(`${app.clock.now().toISOString()} ${line}`);
    let stopping = false;
    let inFlight: Promise<void> | undefined;
    const passContext: CommandContext = { ...running, stopped: () => stopping };
    // Set before the first pass, so nothing changed after it goes unseen.
    const memory: BuildMemory = { watch: new FolderWatch(buildInputs(config)) };

    const runOnce = async (reason: string) => {
      if (inFlight) {
        log(`skipped the ${reason} pass: the previous one is still running`);
        return;
      }
      const work = (async () => {
        const started = performance.now();
        try {
          const { report, problems, notifications } = await pass(passContext, app, memory);
          const notified = notifiedLine(notifications);
          if (notified) log(notified);
          if (report.baseline) {
            log(baselineLine(report.baseline));
          }
          printSendReport(passContext, report);
          const failed = report.posts.some((post) => post.failed) || report.halted || problems;
          const sent = report.posts.length ? `${report.posts.reduce((sum, post) => sum + post.sent, 0)} sent` : 'nothing due';
          const ms = `(${Math.round(performance.now() - started)} ms)`;
          if (stopping) log(`pass stopped: ${sent}, the rest stays due ${ms}`);
          else log(failed ? `the pass finished with problems (see above); herald keeps running: ${sent} ${ms}` : `pass done: ${sent} ${ms}`);
        } catch (error) {
          log(`the pass failed: ${error instanceof HeraldError ? error.message : ((error as Error).stack ?? String(error))}`);
        }
      })();
      inFlight = work;
      await work;
      inFlight = undefined;
      if (!stopping) log(`next pass at ${task.getNextRun()?.toISOString() ?? 'never'}`);
    };

    let server: Server | undefined;
    if (options.http) {
      server = createWebServer({ config, cwd: io.cwd, newsletter: app.newsletter, log });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', (error: NodeJS.ErrnoException) => {
          reject(
            new HeraldError({
              code: 'E_USAGE',
              field: '--port',
              message: `cannot listen on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : (error.code ?? error.message)}`,
              hint: 'pick another port with --port N, or stop what is using it',
            }),
          );
        });
        server!.listen(port, host, () => resolve());
      });
      const address = server.address();
      // At the site's own path: a site.url of https://ada.github.io/blog/ is served at /blog/.
      const sitePath = new URL(config.site.url).pathname;
      const shown = typeof address === 'object' && address ? `http://${host.includes(':') ? `[${host}]` : host}:${address.port}${sitePath}` : String(address);
      log(`serving ${shown} (archive, feeds, subscribe, unsubscribe)`);
      await app.newsletter.servingStarted();
    }
    // Scheduled only once the web side is up, so a failure to listen leaves nothing running.
    const task = cron.schedule(config.schedule, () => runOnce('scheduled'), { timezone: config.site.timezone, name: 'herald' });
    if (!config.smtp.url) log(`no SMTP server configured: mail goes to ${config.paths.outbox}/ as .eml files`);
    log(`schedule "${config.schedule}" in ${config.site.timezone}`);

    const stopped = new Promise<void>((resolve) => {
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log(`${signal}: stopping; messages in flight finish, the rest stay due`);
        await task.stop();
        if (server) await closeServer(server);
        await inFlight;
        log('stopped');
        resolve();
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
    await runOnce('first');
    await stopped;
    await task.destroy();
    memory.watch.close();
    return 0;
  }, { mail: true });
}

/**
 * The site.url of a site served on host:port. Loopback and every-interface addresses are reached
 * from this machine as localhost (a browser opens it, and a link to 0.0.0.0 leads nowhere);
 * another host or address is named as it is.
 */
export function siteUrlServedAt(host: string, port: number): string {
  const name = host.replace(/^\[(.*)\]$/, '$1');
  if (isLocal(name)) return `http://localhost:${port}/`;
  return `http://${isIPv6(name) ? `[${name}]` : name}:${port}/`;
}

function isLocal(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (isIPv4(host)) return host === '0.0.0.0' || host.startsWith('127.');
  if (!isIPv6(host)) return false;
  // ::1 and :: however written (0:0:0:0:0:0:0:1), and IPv4 loopback mapped into IPv6.
  const { hostname } = new URL(`http://[${host}]/`);
  return hostname === '[::1]' || hostname === '[::]' || /^\[::ffff:7f/.test(hostname);
}

// A port the system gives out as free now; undefined if host cannot be listened on, which the
// real listen then reports.
async function freePort(host: string): Promise<number | undefined> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(undefined));
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
