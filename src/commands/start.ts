import cron from 'node-cron';
import type { Server } from 'node:http';
import { createTransport, type Transport } from '../deliver/transport.js';
import { loadSecret } from '../email/unsubscribe.js';
import { HeraldError } from '../errors.js';
import { closeServer, createWebServer } from '../web/server.js';
import type { CommandContext } from './context.js';
import { runCommand } from './send.js';

export function validateSchedule(context: CommandContext): void {
  const { schedule } = context.config;
  if (cron.validate(schedule)) return;
  throw new HeraldError({
    code: 'E_CONFIG',
    file: context.config.file,
    field: 'schedule',
    message: `"schedule" ${JSON.stringify(schedule)} is not a cron expression`,
    hint: 'write five fields, minute hour day month weekday, such as "*/10 * * * *" for every 10 minutes (a sixth, leading field is seconds)',
  });
}

/**
 * herald start: the long-running worker. A pass at once, then one on every tick of the schedule,
 * never two at a time; the web side in the same process. SIGINT or SIGTERM stops it cleanly.
 */
export async function startCommand(context: CommandContext, options: { port?: string; host?: string; http: boolean }): Promise<number> {
  const { config, io } = context;
  validateSchedule(context);
  const log = (line: string) => io.out(`${new Date().toISOString()} ${line}`);
  let stopping = false;
  let running: Promise<void> | undefined;

  const pass = async (reason: string) => {
    if (running) {
      log(`skipped the ${reason} pass: the previous one is still running`);
      return;
    }
    const work = (async () => {
      try {
        const code = await runCommand({ ...context, now: new Date(), stopped: () => stopping }, false);
        if (code) log('the pass finished with problems (see above); herald keeps running');
      } catch (error) {
        log(`the pass failed: ${error instanceof HeraldError ? error.message : ((error as Error).stack ?? String(error))}`);
      }
    })();
    running = work;
    await work;
    running = undefined;
    if (!stopping) log(`next pass at ${task.getNextRun()?.toISOString() ?? 'never'}`);
  };

  let server: Server | undefined;
  let transport: Transport | undefined;
  if (options.http) {
    transport = createTransport(config);
    server = createWebServer({ config, cwd: io.cwd, secret: loadSecret(config, io.env), transport, log });
    const port = Number(options.port ?? io.env.PORT ?? 8080);
    const host = options.host ?? '127.0.0.1';
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      transport.close();
      throw new HeraldError({ code: 'E_USAGE', field: '--port', message: `port "${options.port ?? io.env.PORT}" is not a port number`, hint: 'give a whole number from 1 to 65535, such as --port 8080' });
    }
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (error: NodeJS.ErrnoException) => {
        transport?.close();
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
    const shown = typeof address === 'object' && address ? `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/` : String(address);
    log(`serving ${shown} (archive, feeds, subscribe, unsubscribe)`);
  }
  // Scheduled only once the web side is up, so a failure to listen leaves nothing running.
  const task = cron.schedule(config.schedule, () => pass('scheduled'), { timezone: config.site.timezone, name: 'herald' });
  if (!config.smtp.url) log(`no SMTP server configured: mail goes to ${config.paths.outbox}/ as .eml files`);
  log(`schedule "${config.schedule}" in ${config.site.timezone}`);

  const stopped = new Promise<void>((resolve) => {
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping; messages in flight finish, the rest stay due`);
      await task.stop();
      if (server) await closeServer(server);
      await running;
      transport?.close();
      log('stopped');
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  await pass('first');
  await stopped;
  await task.destroy();
  return 0;
}
