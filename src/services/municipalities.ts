import { changeRecord, recordAudit, type AuditSource } from '../db/audit.js';
import { upsertMunicipality, upsertTeam, type Team } from '../db/municipalities.js';
import { setRetention, type MunicipalityRetention } from '../db/retention.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { ensureDefaultRuleSets } from '../db/ruleSets.js';
import { defaultRuleSet } from './evaluation.js';

/**
 * Municipalities and their teams, each change with its audit record in the change's own
 * transaction.
 */

/**
 * Creates or replaces a municipality and its postcode areas. A new municipality starts with the
 * default rule set as its version 1. When some areas belong to another municipality nothing is
 * written (and nothing audited): the caller answers with those areas.
 */
export async function saveMunicipality(
  pool: Pool,
  municipality: { code: string; name: string; postcodeAreas: string[] },
  audit: AuditSource,
): Promise<{ created: boolean; takenAreas: string[] }> {
  const { code, name, postcodeAreas } = municipality;
  return withTransaction(pool, async (tx) => {
    const upserted = await upsertMunicipality(tx, code, name, postcodeAreas);
    if (upserted.takenAreas.length > 0) return upserted;
    if (upserted.created) await ensureDefaultRuleSets(tx, defaultRuleSet(), [code]);
    const action = upserted.created ? 'municipality.create' : 'municipality.update';
    await recordAudit(tx, changeRecord(audit, { action, objectType: 'municipality', objectId: code, municipality: code }));
    return upserted;
  });
}

/** Creates or replaces a team and the postcode areas whose households it serves. */
export async function saveTeam(pool: Pool, team: Team, audit: AuditSource): Promise<{ created: boolean }> {
  return withTransaction(pool, async (tx) => {
    const saved = await upsertTeam(tx, team);
    const action = saved.created ? 'team.create' : 'team.update';
    await recordAudit(tx, changeRecord(audit, { action, objectType: 'team', objectId: `${team.municipality}/${team.id}`, municipality: team.municipality }));
    return saved;
  });
}

/** Sets a municipality's own retention terms (null: the installation's). False when there is no such municipality. */
export async function saveRetention(pool: Pool, retention: MunicipalityRetention, audit: AuditSource): Promise<boolean> {
  return withTransaction(pool, async (tx) => {
    if (!(await setRetention(tx, retention))) return false;
    const terms = `untaskedMonths=${retention.untaskedMonths ?? 'default'};closedTaskMonths=${retention.closedTaskMonths ?? 'default'}`;
    await recordAudit(tx, changeRecord(audit, { action: 'municipality.retention', objectType: 'municipality', objectId: `${retention.municipality} ${terms}`, municipality: retention.municipality }));
    return true;
  });
}
