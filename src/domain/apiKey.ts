import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { PARTNER_TYPE_CODES, type PartnerType } from './codes.js';

export const ROLES = ['integrator', 'consultant', 'coordinator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a request may see and do, derived from its API key. */
export interface Actor {
  keyId: string;
  label: string;
  role: Role;
  /** null: every municipality (admin keys, and integrator keys of a hub that serves several). */
  municipality: string | null;
  /** Integrators: the partner types this key may send; null means all. */
  partnerTypes: PartnerType[] | null;
  /** Consultants: the teams whose queues they work. */
  teams: string[];
}

const KEY_PREFIX = 'vs_';

/** A new API key: 32 random bytes, shown once. Only its hash is stored. */
export function generateApiKey(): { key: string; hash: Buffer; prefix: string } {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 8) };
}

/** SHA-256 is enough here: the key itself carries 256 bits of randomness, nothing to brute-force. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** Compares two hashes in constant time. */
export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A syntactically plausible key; anything else is refused before touching the database. */
export function looksLikeApiKey(key: string): boolean {
  return key.startsWith(KEY_PREFIX) && key.length === KEY_PREFIX.length + 43 && /^[A-Za-z0-9_-]+$/.test(key.slice(KEY_PREFIX.length));
}

export const ALL_PARTNER_TYPES: readonly PartnerType[] = PARTNER_TYPE_CODES;
