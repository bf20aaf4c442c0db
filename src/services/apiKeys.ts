import { insertApiKey } from '../db/apiKeys.js';
import { municipalityExists } from '../db/municipalities.js';
import type { Queryable } from '../db/pool.js';
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
