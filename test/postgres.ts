// A real PostgreSQL server for the tests: a new cluster in a temp folder, on a free loopback
// port, removed at the end. initdb refuses to run as root, so as root it runs as `postgres`.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { closedPort } from './helpers.js';

export interface Postgres {
  /** The superuser's URL (trusted on loopback, no password). */
  url: string;
  /** A new, empty database on the server: its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The folder holding initdb and pg_ctl: on PATH, or Debian's newest /usr/lib/postgresql/<version>/bin. */
function binaries(): string {
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .sort((a, b) => Number(b) - Number(a))
        .map((version) => `/usr/lib/postgresql/${version}/bin`)
    : [];
  const found = [...(process.env.PATH ?? '').split(delimiter), ...debian].find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) throw new Error("PostgreSQL is not installed: the postgres store's tests start a real server (initdb, pg_ctl); install Debian's postgresql package (apt-get install postgresql)");
  return found;
}

/** As root, who runs the server: initdb will not run as root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
  } catch {
    throw new Error("the tests run as root and initdb refuses root: they run the server as the postgres user, which does not exist (Debian's postgresql package makes it)");
  }
}

export async function startPostgres(): Promise<Postgres> {
  const bin = binaries();
  const user = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'herald-pg-'));
  if (user) await chown(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const run = (tool: string, args: string[]) =>
    new Promise<void>((resolve, reject) =>
      execFile(join(bin, tool), args, { cwd: dir, ...user }, (error, _out, err) => (error ? reject(new Error(`${tool} failed: ${err || error.message}`)) : resolve())),
    );
  // Durability is not what these tests are about: no fsync makes the cluster quick to make and use.
  await run('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--auth=trust']);
  // The superuser is trusted; any other role logs in with its password (the tests of bad credentials).
  await writeFile(join(data, 'pg_hba.conf'), 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n');
  const port = await closedPort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let databases = 0;
  return {
    url,
    async createDatabase() {
      const name = `herald_${++databases}`;
      const client = new pg.Client(url);
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
