import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { API_VERSION } from './env.js';
import { problemBody, ProblemError } from './problem.js';

/**
 * Requests Node's HTTP parser refuses before the app sees them — a URL or headers over its
 * 16 KiB limit, bytes that are no HTTP — are answered with a problem+json like every other
 * refusal, instead of Node's bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A response under way on this connection (keep-alive, pipelining) must not get a second
    // one written into it: such a connection is only cut.
    const inFlight = (socket as Duplex & { _httpMessage?: unknown })._httpMessage != null;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight) {
      socket.destroy();
      return;
    }
    const refusal =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new ProblemError(431, 'The URL and headers together are larger than 16 KiB', { type: 'too-large', title: 'Request header fields too large' })
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new ProblemError(408, 'The request did not arrive in time', { type: 'timeout', title: 'Request timeout' })
          : new ProblemError(400, 'This is not a well-formed HTTP request', { type: 'malformed-request' });
    const body = JSON.stringify(problemBody(refusal));
    socket.end(
      `HTTP/1.1 ${refusal.status} ${refusal.options.title ?? 'Bad Request'}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `API-Version: ${API_VERSION}\r\n` +
        // The headers the app's secureHeaders() sets on every other answer.
        'X-Content-Type-Options: nosniff\r\n' +
        'X-Frame-Options: SAMEORIGIN\r\n' +
        'Referrer-Policy: no-referrer\r\n' +
        'Strict-Transport-Security: max-age=15552000; includeSubDomains\r\n' +
        'Cross-Origin-Resource-Policy: same-origin\r\n' +
        'Cache-Control: no-store\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
