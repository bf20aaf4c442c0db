import { audit, origin } from '../api/middleware/auth.js';
import type { Role } from '../domain/apiKey.js';
import type { AuditSource } from '../services/taskWork.js';
import { asApiContext, type WebContext } from './env.js';
import { forbidden } from './errors.js';
import type { Form } from './form.js';

/** Helpers every page handler uses: role checks, audit records, form fields. */

/** 403 page unless the signed-in key has one of the roles (the API's assertRole, for pages). */
export function requireRole(c: WebContext, ...roles: Role[]): void {
  if (!roles.includes(c.get('actor').role)) throw forbidden();
}

/** The API's audit(): the same record for a page view as for the API read it mirrors. */
export function auditRead(c: WebContext, event: Parameters<typeof audit>[1]): Promise<void> {
  return audit(asApiContext(c), event);
}

/**
 * Who makes a change, for the audit record the service writes inside the change's transaction —
 * the same source the API's task-work routes pass (actor, origin and request id of this request).
 */
export function auditChange(c: WebContext): AuditSource {
  const actor = c.get('actor');
  return { actorKeyId: actor.keyId, actorLabel: actor.label, origin: origin(asApiContext(c)), requestId: c.get('requestId') };
}

export type { Form } from './form.js';

/** A text field of a parsed form, trimmed; '' when absent or not text. */
export function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** A positive integer id from a path parameter, or null. */
export function idParam(value: string | undefined): number | null {
  if (!value || !/^[1-9][0-9]{0,15}$/.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}
