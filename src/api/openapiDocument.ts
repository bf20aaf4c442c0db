import { API_VERSION } from './env.js';
import { buildV1 } from './v1.js';

let cached: unknown;

/**
 * The OpenAPI document, generated from the routes' zod schemas. Paths are relative to the
 * server URL `/v1` (the NL API Design Rules want the major version in the server URL).
 */
export function openApiDocument(): unknown {
  cached ??= buildV1().getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'vroegsein',
      version: API_VERSION,
      description: "Early signals of payment arrears: intake from creditors, households, rules and outreach tasks for municipalities' vroegsignalering schulden.",
      contact: { name: 'vroegsein maintainers', email: 'maintainers@vroegsein.example', url: 'https://github.com/vroegsein/vroegsein' },
      license: { name: 'EUPL-1.2', url: 'https://interoperable-europe.ec.europa.eu/collection/eupl/eupl-text-eupl-12' },
    },
    servers: [{ url: '/v1', description: 'This server' }],
  });
  return cached;
}
