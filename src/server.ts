import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './api/app.js';
import { answerClientErrors } from './api/clientErrors.js';
import type { AppContext } from './context.js';
import { countActiveApiKeys } from './db/apiKeys.js';
import { OperatorError } from './errors.js';
import type { Logger } from './logger.js';

/** The HTTP server of `vroegsein api` / `vroegsein start`, and graceful shutdown. */

export interface ApiServer {
  /** The base URL clients use: PUBLIC_URL, or what the server listens on. */
  url: string;
  port: number;
  /**
   * Stops accepting connections and lets in-flight requests finish; after `timeoutMs` the
   * remaining connections are cut. Idempotent.
   */
  close(timeoutMs?: number): Promise<void>;
}

export class ServerStartError extends OperatorError {}

export const FIRST_KEY_HINT = 'npx vroegsein keys create --role admin   (or: npm run vroegsein -- keys create --role admin)';

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startApiServer(ctx: AppContext, options: { host?: string; port?: number } = {}): Promise<ApiServer> {
  const host = options.host ?? ctx.config.HOST;
  const { app } = createApp(ctx);
  const server = await new Promise<Server>((resolve, reject) => {
    const candidate = serve({ fetch: app.fetch, hostname: host, port: options.port ?? ctx.config.PORT }, () => {
      candidate.off('error', reject);
      resolve(candidate as Server);
    });
    candidate.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ServerStartError(`${host}:${options.port ?? ctx.config.PORT} is already in use: set PORT (or HOST) to a free address`)
          : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
            ? new ServerStartError(`cannot listen on HOST ${host}: ${error.message}`)
            : error,
      );
    });
  });
  answerClientErrors(server);
  const port = (server.address() as AddressInfo).port;
  const url = (ctx.config.PUBLIC_URL ?? `http://${urlHost(host)}:${port}`).replace(/\/+$/, '');
  ctx.logger.info({ url, api: `${url}/v1`, docs: `${url}/docs` }, 'API listening');
  // A fresh installation has no keys, and every /v1 request needs one: say how to make it.
  const activeKeys = await countActiveApiKeys(ctx.pool).catch(() => null);
  if (activeKeys === 0) ctx.logger.info({ command: FIRST_KEY_HINT }, 'no API keys yet: create the first admin key');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close(timeoutMs = ctx.config.SHUTDOWN_TIMEOUT_SECONDS * 1000) {
      closing ??= closeGracefully(server, timeoutMs, ctx.logger);
      return closing;
    },
  };
}

async function closeGracefully(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // server.close() stops listening at once but waits for every open connection. Keep-alive
  // connections between two requests would hold it open: cut those as soon as they are idle,
  // again and again, while connections with a request in flight finish their response.
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  try {
    if (await Promise.race([closed.then(() => false), timedOut])) {
      logger.warn({ timeoutMs }, 'requests still in flight at the shutdown timeout; closing their connections');
      server.closeAllConnections();
      await closed;
    }
  } finally {
    clearInterval(idleSweep);
    clearTimeout(timer);
  }
  logger.info('API stopped');
}

/**
 * Runs `shutdown` once on the first SIGTERM or SIGINT, then exits 0 (1 if it failed). A second
 * signal exits at once, for an operator who does not want to wait.
 */
export function onShutdownSignal(logger: Logger, shutdown: (signal: NodeJS.Signals) => Promise<void>): void {
  let started = false;
  const handler = (signal: NodeJS.Signals) => {
    if (started) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    started = true;
    logger.info({ signal }, 'shutting down: finishing requests and jobs in flight');
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
