import { insertApiKey, lockActiveApiKey, revokeApiKey } from '../db/apiKeys.js';
import { municipalityExists } from '../db/municipalities.js';
import type { Client, Queryable } from '../db/pool.js';
import { generateApiKey, type Role } from '../domain/apiKey.js';
import type { PartnerType } from '../domain/codes.js';

export interface CreateApiKeyInput {
  role: Role;
  label: string;
  municipality?: string | undefined;
  partnerTypes?: PartnerType[] | undefined;
  teams?: string[] | undefined;
}

export class ApiKeyInputError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Creates a key and returns it once, in clear; only its hash is stored. Shared by the API and
 * the CLI so both apply the same rules about which role needs which scope.
 */
export async function createApiKey(db: Queryable, input: CreateApiKeyInput): Promise<{ id: string; key: string }> {
  const needsMunicipality = input.role === 'consultant' || input.role === 'coordinator';
  if (needsMunicipality && !input.municipality) throw new ApiKeyInputError('/municipality', `a ${input.role} key belongs to one municipality`);
  if (input.municipality && !(await municipalityExists(db, input.municipality))) {
    throw new ApiKeyInputError('/municipality', `municipality ${input.municipality} is not registered`);
  }
  if (input.partnerTypes && input.role !== 'integrator') throw new ApiKeyInputError('/partnerTypes', 'only integrator keys are limited to partner types');
  if (input.teams && input.role !== 'consultant') throw new ApiKeyInputError('/teams', 'only consultant keys have teams');
  const generated = generateApiKey();
  const id = await insertApiKey(db, {
    hash: generated.hash,
    prefix: generated.prefix,
    role: input.role,
    municipality: input.municipality ?? null,
    partnerTypes: input.partnerTypes ? [...new Set(input.partnerTypes)] : null,
    teams: input.role === 'consultant' ? [...new Set(input.teams ?? [])] : null,
    label: input.label,
  });
  return { id, key: generated.key };
}

/**
 * Replaces an active key by a new one with the same role, scope and label, and revokes the old
 * one, in the caller's transaction: either both happen or neither. Returns null when there is
 * no active key with that id. The new key is returned once, in clear.
 */
export async function rotateApiKey(tx: Client, id: string): Promise<{ id: string; key: string; previousId: string } | null> {
  const scope = await lockActiveApiKey(tx, id);
  if (!scope) return null;
  const generated = generateApiKey();
  const newId = await insertApiKey(tx, { ...scope, hash: generated.hash, prefix: generated.prefix });
  if (!(await revokeApiKey(tx, id))) throw new Error(`API key ${id} could not be revoked`);
  return { id: newId, key: generated.key, previousId: id };
}
