import type { Context, MiddlewareHandler } from 'hono';
import { findActiveKeyByHash, touchApiKey } from '../../db/apiKeys.js';
import { recordAudit, type AuditSource } from '../../db/audit.js';
import { hashApiKey, looksLikeApiKey, sameHash, type Actor, type Role } from '../../domain/apiKey.js';
import type { ApiEnv } from '../env.js';
import { problem } from '../problem.js';

/** Resolves `Authorization: Bearer <key>` to an actor; 401 when absent, unknown or revoked. */
export const authenticate: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const header = c.req.header('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match || !looksLikeApiKey(match[1]!)) throw problem.unauthorized();
  const ctx = c.get('ctx');
  const hash = hashApiKey(match[1]!);
  const found = await findActiveKeyByHash(ctx.pool, hash);
  // The lookup is by hash; the constant-time comparison keeps timing independent of the key.
  if (!found || !sameHash(found.hash, hash)) throw problem.unauthorized('Unknown or revoked API key');
  const { hash: _hash, ...actor } = found;
  c.set('actor', actor);
  if (shouldTouch(actor.keyId, Date.now())) touchApiKey(ctx.pool, actor.keyId).catch(() => {});
  await next();
};

// last_used_at is kept to the minute; remembering when this process last wrote it saves a
// query on almost every request.
const lastTouched = new Map<string, number>();
function shouldTouch(keyId: string, now: number): boolean {
  const last = lastTouched.get(keyId);
  if (last !== undefined && now - last < 60_000) return false;
  if (lastTouched.size > 10_000) lastTouched.clear();
  lastTouched.set(keyId, now);
  return true;
}

/** 403 unless the actor has one of the roles. */
export function requireRole(...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!roles.includes(c.get('actor').role)) throw problem.forbidden(`This needs a key with role ${roles.join(' or ')}`);
    await next();
  };
}

/** Throws 403 unless the actor has one of the roles; for use inside handlers. */
export function assertRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.includes(actor.role)) throw problem.forbidden(`This needs a key with role ${roles.join(' or ')}`);
}

/**
 * Whether the actor may see data of a municipality. Callers answer 404 (not 403) when it may
 * not: the existence of another municipality's data is itself not to be disclosed.
 */
export function canSeeMunicipality(actor: Actor, municipality: string | null): boolean {
  return actor.municipality === null || actor.municipality === municipality;
}

/** The client's address, for the audit log. */
export function origin(c: Context<ApiEnv>): string | null {
  const ctx = c.get('ctx');
  if (ctx.config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for');
    if (forwarded) return forwarded.split(',')[0]!.trim();
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/**
 * Who makes the current request's change, for the audit record a service writes inside the
 * change's own transaction. Reads are audited with audit().
 */
export function auditSource(c: Context<ApiEnv>): AuditSource {
  const actor = c.get('actor');
  return { actorKeyId: actor.keyId, actorLabel: actor.label, origin: origin(c), requestId: c.get('requestId') };
}

/** Writes an audit record for the current request's actor: for reads (see auditSource for changes). */
export async function audit(
  c: Context<ApiEnv>,
  event: { action: string; objectType: string; objectId?: string | null; municipality?: string | null; result?: 'success' | 'denied' | 'failed' },
): Promise<void> {
  const actor = c.get('actor');
  await recordAudit(c.get('ctx').pool, {
    actorKeyId: actor?.keyId ?? null,
    actorLabel: actor?.label ?? null,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId ?? null,
    municipality: event.municipality ?? null,
    result: event.result ?? 'success',
    origin: origin(c),
    requestId: c.get('requestId'),
  });
}
