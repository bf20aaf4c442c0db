import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../src/context.js';
import { addressKey } from '../../src/domain/address.js';
import type { PartnerType } from '../../src/domain/codes.js';

/**
 * Stores signals the way intake leaves them (household upserted and marked as waiting), for
 * tests of the evaluation that should not depend on the HTTP intake path.
 */
export interface SeedSignal {
  postcode: string;
  houseNumber: number;
  partnerType: PartnerType;
  amountCents: number;
  signalDate: string;
  originDate?: string;
  crisis?: boolean;
  endOfSupply?: boolean;
  birthDate?: string;
  childrenInHousehold?: number;
  externalId?: string;
  receivedAt?: string;
}

export async function seedSignals(ctx: AppContext, signals: SeedSignal[]): Promise<number[]> {
  const batchId = randomUUID();
  await ctx.pool.query(`insert into signal_batches (id, source, status) values ($1, 'cli', 'completed')`, [batchId]);
  const householdIds: number[] = [];
  for (const s of signals) {
    const key = addressKey({ postcode: s.postcode, houseNumber: s.houseNumber });
    const { rows } = await ctx.pool.query<{ id: number; municipality_code: string | null }>(
      `insert into households (address_key, municipality_code, postcode, house_number)
       values ($1, (select municipality_code from municipality_areas where postcode_area = left($2, 4)), $2, $3)
       on conflict (address_key) do update set postcode = excluded.postcode
       returning id, municipality_code`,
      [key, s.postcode, s.houseNumber],
    );
    const householdId = rows[0]!.id;
    if (rows[0]!.municipality_code !== null) {
      await ctx.pool.query(`insert into evaluation_queue (household_id, since) values ($1, now()) on conflict do nothing`, [householdId]);
    }
    await ctx.pool.query(
      `insert into signals (batch_id, household_id, municipality_code, partner_type, external_id, signal_date, origin_date, amount_cents,
                            crisis, end_of_supply, birth_date, received_at, status, children_in_household)
       select $1, $2, h.municipality_code, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11::timestamptz, now()),
              case when h.municipality_code is null then 'not_resident' else 'not_yet_picked_up' end, $12
         from households h where h.id = $2`,
      [batchId, householdId, s.partnerType, s.externalId ?? randomUUID(), s.signalDate, s.originDate ?? null, s.amountCents, s.crisis ?? false,
        s.endOfSupply ?? false, s.birthDate ?? null, s.receivedAt ?? null, s.childrenInHousehold ?? null],
    );
    householdIds.push(householdId);
  }
  return [...new Set(householdIds)];
}
