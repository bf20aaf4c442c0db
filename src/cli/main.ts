import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import cliProgress from 'cli-progress';
import { pino } from 'pino';
import { ConfigError, parseConfig, type Config } from '../config.js';
import type { AppContext } from '../context.js';
import { listApiKeys, revokeApiKey } from '../db/apiKeys.js';
import { recordAudit } from '../db/audit.js';
import { isDatabaseUnavailable, withTransaction } from '../db/pool.js';
import { ROLES, type Role } from '../domain/apiKey.js';
import { PARTNER_TYPE_CODES, type PartnerType } from '../domain/codes.js';
import { OperatorError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import type { Runtime } from '../runtime.js';
import { ApiKeyInputError, createApiKey, rotateApiKey } from '../services/apiKeys.js';

// The runtime (BullMQ), the API (every route) and the workers are imported where a command
// needs them: `vroegsein help` or `openapi` should not pay for loading all of them.

/**
 * The `vroegsein` command. Exit codes: 0 success, 1 failure, 2 usage error.
 *
 * Output conventions: results go to stdout (a new API key is always the last line, so scripts
 * can take it with `tail -n 1`); logs, progress and errors go to stderr. The long-running
 * commands (start, api, worker) log JSON lines to stdout, as services do.
 */

const USAGE = `vroegsein — early signals of payment arrears for municipalities

Usage: vroegsein <command> [options]

Commands:
  start                       API and workers in one process (the quick start)
  api                         the HTTP API only
  worker                      the workers only (evaluation, feed import, maintenance); run N of them
  migrate                     apply database migrations and exit
  keys create --role ROLE     create an API key; the key is printed once, as the last line
         [--municipality CODE] [--partner-types a,b] [--teams x,y] [--label TEXT]
  keys list                   list API keys (never the keys themselves)
  keys revoke ID              revoke an API key
  keys rotate ID              new key with the same role, scope and label; the old one is revoked
  import FILE.csv             import a CSV file of signals (the API's CSV columns)
  openapi                     print the OpenAPI document (JSON)
  rules validate FILE         check a rule set (offline: no server, no database)
  rules test FILE --cases CASES.json
                              run regression cases against a rule set (offline)
  rules simulate FILE --signals FEED.csv [--against rules/default.json] [--json]
                              what a rule set changes on the households of a feed (offline)
  help                        this text

Roles: ${ROLES.join(', ')}
Configuration comes from environment variables (see the README). Without DATABASE_URL an
embedded PostgreSQL runs under EMBEDDED_DATA_DIR (./data); without REDIS_URL the queues live
in PostgreSQL.
`;

/** Wrong use of the command line: exit code 2. */
class UsageError extends Error {}
/** An expected failure (bad input, nothing found): exit code 1, message only. */
class CliError extends Error {}

function version(): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}
const out = (text: string) => write(process.stdout, text.endsWith('\n') ? text : text + '\n');

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, positionals = 0) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`);
    return parsed;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs reports unknown options and missing values with a TypeError and an ERR_PARSE_ARGS_* code.
    throw new UsageError((error as Error).message);
  }
}

function loadConfig(): Config {
  return parseConfig(process.env);
}

/**
 * One-shot commands log to stderr (stdout carries their result), and only warnings unless
 * LOG_LEVEL asks for more: starting the embedded database should not bury a new key.
 */
function commandLogger(): Logger {
  // Parsed with the rest of the configuration (an unknown level is a configuration error), but
  // 'warn' rather than the server's 'info' when unset.
  const level = process.env.LOG_LEVEL === undefined ? 'warn' : loadConfig().LOG_LEVEL;
  return createLogger(level, pino.destination({ dest: 2, sync: true }));
}

const FIRST_KEY_HINT = 'npx vroegsein keys create --role admin   (or: npm run vroegsein -- keys create --role admin)';

async function withRuntime<T>(work: (ctx: AppContext, runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const { startRuntime } = await import('../runtime.js');
  const runtime = await startRuntime(config, { logger: commandLogger(), applicationName: 'vroegsein-cli' });
  try {
    return await work(runtime.ctx, runtime);
  } finally {
    await runtime.close();
  }
}

const list = (value: string | undefined) =>
  value === undefined
    ? undefined
    : value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function keyId(args: string[], command: string): string {
  const { positionals } = parse(args, {}, 1);
  const id = positionals[0];
  if (!id) throw new UsageError(`keys ${command} needs the id of a key (see vroegsein keys list)`);
  if (!UUID.test(id)) throw new UsageError(`'${id}' is not a key id (a UUID, see vroegsein keys list)`);
  return id;
}

function auditCli(action: string, objectId: string, municipality: string | null = null) {
  return { actorKeyId: null, actorLabel: 'cli', action, objectType: 'api-key', objectId, municipality, result: 'success' as const, origin: 'cli' };
}

async function printKey(created: { id: string; key: string }, description: string): Promise<void> {
  await out(`${description}\nid:  ${created.id}\nStore the key now: it is shown only this once, and only its hash is kept.\n${created.key}`);
}

// ---------------------------------------------------------------------------------------------
// commands

async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values } = parse(rest, {
        role: { type: 'string' },
        municipality: { type: 'string' },
        'partner-types': { type: 'string' },
        teams: { type: 'string' },
        label: { type: 'string' },
      });
      const role = values.role as Role | undefined;
      if (!role) throw new UsageError(`keys create needs --role (${ROLES.join(', ')})`);
      if (!ROLES.includes(role)) throw new UsageError(`unknown role '${role}'; one of ${ROLES.join(', ')}`);
      if (values.municipality !== undefined && !/^[0-9]{4}$/.test(values.municipality)) {
        throw new UsageError(`--municipality is the 4-digit CBS code of a municipality, e.g. 1916`);
      }
      const partnerTypes = list(values['partner-types']);
      const unknown = partnerTypes?.filter((p) => !(PARTNER_TYPE_CODES as readonly string[]).includes(p)) ?? [];
      if (unknown.length > 0) throw new UsageError(`unknown partner type ${unknown.join(', ')}; one of ${PARTNER_TYPE_CODES.join(', ')}`);
      const label = values.label?.trim() || `${role} key (created with the CLI)`;
      const created = await withRuntime((ctx) =>
        withTransaction(ctx.pool, async (tx) => {
          const key = await createApiKey(tx, {
            role,
            label,
            municipality: values.municipality,
            partnerTypes: partnerTypes as PartnerType[] | undefined,
            teams: list(values.teams),
          });
          await recordAudit(tx, auditCli('api-key.create', key.id, values.municipality ?? null));
          return key;
        }),
      );
      await printKey(created, `Created an API key with role ${role}${values.municipality ? ` for municipality ${values.municipality}` : ''}.`);
      return 0;
    }
    case 'revoke': {
      const id = keyId(rest, 'revoke');
      const revoked = await withRuntime((ctx) =>
        withTransaction(ctx.pool, async (tx) => {
          const done = await revokeApiKey(tx, id);
          if (done) await recordAudit(tx, auditCli('api-key.revoke', id));
          return done;
        }),
      );
      if (!revoked) throw new CliError(`there is no active API key with id ${id}`);
      await out(`Revoked ${id}.`);
      return 0;
    }
    case 'rotate': {
      const id = keyId(rest, 'rotate');
      const rotated = await withRuntime((ctx) =>
        withTransaction(ctx.pool, async (tx) => {
          const result = await rotateApiKey(tx, id);
          if (result) {
            await recordAudit(tx, auditCli('api-key.create', result.id));
            await recordAudit(tx, auditCli('api-key.revoke', id));
          }
          return result;
        }),
      );
      if (!rotated) throw new CliError(`there is no active API key with id ${id}`);
      await printKey(rotated, `Rotated ${id}: it is revoked; its replacement has the same role, scope and label.`);
      return 0;
    }
    case 'list': {
      parse(rest, {});
      const keys = await withRuntime((ctx) => listApiKeys(ctx.pool));
      if (keys.length === 0) {
        await out(`No API keys yet. Create the first: ${FIRST_KEY_HINT}`);
        return 0;
      }
      const rows = keys.map((k) => [
        k.id,
        k.revokedAt ? 'revoked' : 'active',
        k.role,
        k.municipality ?? '*',
        k.partnerTypes?.join(',') ?? (k.teams?.join(',') || '-'),
        k.lastUsedAt ? k.lastUsedAt.toISOString().slice(0, 16).replace('T', ' ') : 'never',
        k.label,
      ]);
      const header = ['id', 'status', 'role', 'municipality', 'scope', 'last used', 'label'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
      await out([line(header), ...rows.map(line)].join('\n'));
      return 0;
    }
    case undefined:
      throw new UsageError('keys needs a subcommand: create, list, revoke or rotate');
    default:
      throw new UsageError(`unknown keys subcommand '${sub}'; one of create, list, revoke, rotate`);
  }
}

async function importCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {}, 1);
  const file = positionals[0];
  if (!file) throw new UsageError('import needs a CSV file: vroegsein import FILE.csv');
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : Promise.reject(new CliError(`${file} is not a file`))),
    (error: NodeJS.ErrnoException) => Promise.reject(new CliError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`)),
  );
  const [{ importCsvStream }, { ProblemError }] = await Promise.all([import('../services/intake.js'), import('../api/problem.js')]);

  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'importing {bar} {percentage}% | {rows} rows | {eta_formatted} left', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let bytes = 0;
  let rows = 0;
  // The bar follows the bytes read from the file (the only total known up front); the rows
  // come from the intake's report after each committed chunk.
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      bar.update(bytes, { rows });
      done(null, chunk);
    },
  });
  const answer = await withRuntime(async (ctx) => {
    bar.start(Math.max(size, 1), 0, { rows: 0 });
    try {
      return await importCsvStream(ctx, createReadStream(file).pipe(counter), {
        source: 'cli',
        fileName: path.basename(file),
        onProgress: (rowsDone) => {
          rows = rowsDone;
          bar.update(bytes, { rows });
        },
      });
    } catch (error) {
      // Refusals of the whole file (too large, …) are answers, not crashes.
      if (error instanceof ProblemError) throw new CliError(error.detail);
      throw error;
    } finally {
      bar.update(bytes, { rows });
      bar.stop();
    }
  });
  await out(JSON.stringify({ status: answer.status, ...answer.body }, null, 2));
  const body = answer.body as { received?: number; accepted?: number; duplicates?: number; rejectedCount?: number };
  await write(
    process.stderr,
    `batch ${answer.batchId}: ${body.received ?? '?'} rows, ${body.accepted ?? 0} accepted, ${body.duplicates ?? 0} duplicates, ${body.rejectedCount ?? 0} rejected\n`,
  );
  return answer.status < 300 ? 0 : 1;
}

/** start, api and worker: run until SIGTERM/SIGINT, then shut down gracefully. */
async function serveCommand(mode: 'start' | 'api' | 'worker', args: string[]): Promise<number> {
  parse(args, {});
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const [{ startRuntime }, { onShutdownSignal, startApiServer }] = await Promise.all([import('../runtime.js'), import('../server.js')]);
  const runtime = await startRuntime(config, { logger, applicationName: `vroegsein-${mode}` });
  const timeoutMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
  let workers: { close(timeoutMs?: number): Promise<void> } | null = null;
  let server: Awaited<ReturnType<typeof startApiServer>> | null = null;
  try {
    if (mode !== 'api') {
      const { startWorkers } = await import('../../workers/index.js');
      workers = startWorkers(runtime.ctx);
    }
    if (mode !== 'worker') server = await startApiServer(runtime.ctx);
  } catch (error) {
    await workers?.close(timeoutMs).catch(() => {});
    await runtime.close();
    throw error;
  }
  onShutdownSignal(logger, async () => {
    // Stop taking work, let what is in flight finish and commit, then close the connections
    // and (when this process owns it) the embedded database: nothing is left half-written.
    // Both drain at once, so the whole shutdown stays within SHUTDOWN_TIMEOUT_SECONDS (plus
    // closing connections).
    await Promise.all([server?.close(timeoutMs), workers?.close(timeoutMs)]);
    await runtime.close();
  });
  const database = runtime.embedded ? `embedded PostgreSQL on 127.0.0.1:${runtime.embedded.port}, data in ${path.resolve(config.EMBEDDED_DATA_DIR)}` : 'PostgreSQL from DATABASE_URL';
  const lines = [
    `vroegsein ${version()} is running (${mode})`,
    ...(server ? [`  API       ${server.url}/v1`, `  docs      ${server.url}/docs`] : []),
    `  database  ${database}`,
    `  queues    ${runtime.ctx.queues.kind === 'redis' ? 'Redis from REDIS_URL' : 'PostgreSQL (BullMQ PostgreSQL backend)'}`,
    ...(server ? [`  first key ${FIRST_KEY_HINT}`] : []),
    '  stop with Ctrl-C (finishes what is in flight first)',
  ];
  await write(process.stderr, lines.join('\n') + '\n');
  await new Promise<never>(() => {}); // until a signal ends the process
  return 0;
}

async function migrateCommand(args: string[]): Promise<number> {
  parse(args, {});
  await withRuntime(async (ctx) => {
    // The runtime applied our migrations; this makes the queue backend apply its own too.
    if (!(await ctx.queues.ping())) throw new CliError('the queue store could not be reached or migrated');
  });
  await out('Database is up to date.');
  return 0;
}

async function openapiCommand(args: string[]): Promise<number> {
  parse(args, {});
  const { openApiDocument } = await import('../api/openapiDocument.js');
  await out(JSON.stringify(openApiDocument(), null, 2));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'start':
    case 'api':
    case 'worker':
      return serveCommand(command, args);
    case 'migrate':
      return migrateCommand(args);
    case 'keys':
      return keysCommand(args);
    case 'import':
      return importCommand(args);
    case 'openapi':
      return openapiCommand(args);
    case 'rules': {
      const { rulesCommand } = await import('./rules.js');
      return rulesCommand(args);
    }
    case 'help':
    case '--help':
    case '-h':
      await out(USAGE);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      await out(version());
      return 0;
    case undefined:
      await write(process.stderr, USAGE);
      return 2;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Expected failures get one clear line; anything else also its stack, for a bug report. */
function report(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`vroegsein: ${error.message}\nRun 'vroegsein help' for usage.\n`);
    return 2;
  }
  if (error instanceof ConfigError || error instanceof OperatorError || error instanceof CliError) {
    process.stderr.write(`vroegsein: ${error.message}\n`);
    return 1;
  }
  if (error instanceof ApiKeyInputError) {
    process.stderr.write(`vroegsein: ${error.message}\n`);
    return 1;
  }
  if (isDatabaseUnavailable(error)) {
    process.stderr.write(`vroegsein: the database cannot be reached (${(error as Error).message}); check DATABASE_URL, or unset it for the embedded PostgreSQL\n`);
    return 1;
  }
  process.stderr.write(`vroegsein: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

// `vroegsein openapi | head`: the reader going away is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// This module is the CLI's entry point (bin/vroegsein.js and `tsx src/cli/main.ts` load it):
// it runs the command given on the command line and exits with its code.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error)),
);
