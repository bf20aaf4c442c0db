import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProblemError, problemBody } from '../api/problem.js';
import type { AppContext } from '../context.js';
import { isDatabaseUnavailable } from '../db/pool.js';
import { importCsvStream } from './intake.js';

/**
 * The drop folder: CSV files put in FEED_DIR are imported through the same intake service as
 * POST /v1/signals, then moved to processed/ (answer 202) or failed/ with `<name>.report.json`
 * next to them, holding the answer the API would have given.
 *
 * A replica claims a file by renaming it into processing/: rename is atomic, so of two
 * replicas exactly one gets it. While it imports it touches the file now and then; a file in
 * processing/ that nobody touched for `staleSeconds` belonged to a replica that died, and is
 * put back in FEED_DIR to be imported again (rows it had stored count as duplicates then).
 */

export interface FeedFolderOptions {
  /** A file in processing/ untouched this long is retried. */
  staleSeconds?: number;
  /** A file modified less than this long ago may still be being written; it waits for the next poll. */
  settleSeconds?: number;
}

const HEARTBEAT_MS = 30_000;

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** `name`, or `name` with a time stamp when the destination folder has one already. */
async function freeName(folder: string, name: string): Promise<string> {
  const taken = await stat(path.join(folder, name)).then(() => true, () => false);
  if (!taken) return name;
  const ext = path.extname(name);
  return `${path.basename(name, ext)}.${new Date().toISOString().replace(/[:.]/g, '-')}${ext}`;
}

/**
 * The drop folder's work for one poll: take back files abandoned mid-import, then import every
 * settled CSV file in FEED_DIR. `stopped` is asked between files, so a stopping worker finishes
 * the file at hand and leaves the rest.
 */
export function feedFolder(ctx: AppContext, feedDir: string, options: FeedFolderOptions = {}): { pollOnce(stopped: () => boolean): Promise<void> } {
  const staleMs = (options.staleSeconds ?? 300) * 1000;
  const settleMs = (options.settleSeconds ?? 2) * 1000;
  const dirs = {
    inbox: feedDir,
    processing: path.join(feedDir, 'processing'),
    processed: path.join(feedDir, 'processed'),
    failed: path.join(feedDir, 'failed'),
  };

  /** Files in processing/ whose importer stopped touching them go back to the inbox. */
  async function reclaimStale(): Promise<void> {
    for (const name of await readdir(dirs.processing)) {
      const file = path.join(dirs.processing, name);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile() || Date.now() - info.mtimeMs < staleMs) continue;
      if (await stat(path.join(dirs.inbox, name)).then(() => true, () => false)) continue; // a new file of that name waits
      await rename(file, path.join(dirs.inbox, name)).then(
        () => ctx.logger.warn({ file: name }, 'feed file abandoned mid-import; importing it again'),
        (error: unknown) => {
          if (!isNotFound(error)) throw error; // another replica took it back first
        },
      );
    }
  }

  async function importFile(name: string): Promise<void> {
    const claimed = path.join(dirs.processing, name);
    try {
      await rename(path.join(dirs.inbox, name), claimed);
    } catch (error) {
      if (isNotFound(error)) return; // another replica claimed it
      throw error;
    }
    // Rename keeps the file's old modification time: set it, then keep it fresh (the heartbeat).
    await utimes(claimed, new Date(), new Date());
    let lastBeat = Date.now();
    const beat = () => {
      if (Date.now() - lastBeat < HEARTBEAT_MS) return;
      lastBeat = Date.now();
      utimes(claimed, new Date(), new Date()).catch(() => {});
    };

    let report: Record<string, unknown>;
    let ok: boolean;
    try {
      const answer = await importCsvStream(ctx, createReadStream(claimed), { source: 'feed', fileName: name, onProgress: beat });
      report = answer.body;
      ok = answer.status === 202;
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        // Not the file's fault: put it back and try again at the next poll.
        await rename(claimed, path.join(dirs.inbox, name)).catch(() => {});
        ctx.logger.warn({ file: name }, 'database unavailable; feed file left for the next poll');
        return;
      }
      if (error instanceof ProblemError) {
        report = problemBody(error);
      } else {
        ctx.logger.error({ err: error, file: name }, 'feed import failed');
        report = problemBody(new ProblemError(500, 'The import failed unexpectedly; the worker log has the details'));
      }
      ok = false;
    }
    const folder = ok ? dirs.processed : dirs.failed;
    const finalName = await freeName(folder, name);
    // The report first: a file in processed/ or failed/ always has its report next to it.
    const reportFile = path.join(folder, `${finalName}.report.json`);
    await writeFile(`${reportFile}.tmp`, JSON.stringify(report, null, 2) + '\n');
    await rename(`${reportFile}.tmp`, reportFile);
    await rename(claimed, path.join(folder, finalName));
    ctx.logger.info({ file: name, batchId: report.batchId ?? null, outcome: ok ? 'processed' : 'failed' }, 'feed file imported');
  }

  async function pollOnce(stopped: () => boolean): Promise<void> {
    await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
    await reclaimStale();
    const entries = await readdir(dirs.inbox, { withFileTypes: true });
    const candidates = entries
      .filter((e) => e.isFile() && !e.name.startsWith('.') && e.name.toLowerCase().endsWith('.csv'))
      .map((e) => e.name)
      .sort();
    for (const name of candidates) {
      if (stopped()) return;
      const info = await stat(path.join(dirs.inbox, name)).catch(() => null);
      // Still being written (or just copied in): wait until it has settled.
      if (!info || Date.now() - info.mtimeMs < settleMs) continue;
      await importFile(name);
    }
  }

  return { pollOnce };
}
