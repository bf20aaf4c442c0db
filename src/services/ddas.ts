import type { AppContext } from '../context.js';
import { casePage, countRecords, municipalitiesInScope, signalPage, type ExportPeriod, type MunicipalityName } from '../db/ddas.js';
import { withReportingSnapshot } from '../db/monitoring.js';
import type { Actor } from '../domain/apiKey.js';
import {
  aanleverendeOrganisatie,
  deliveryTimestamp,
  planPage,
  toVroegsignaal,
  toVroegsignaalzaak,
  type DdasLevering,
  type DdasPaginering,
  type DdasUitwisselmodel,
} from '../domain/ddas.js';

/**
 * The DDAS v1.2 delivery for a period: one `levering` per municipality in the actor's scope,
 * paged as DDAS-VS's `POST /gegevens` pages it. Both the export endpoint and the pull operation
 * for CBS's collector answer with this, so the two can never drift apart.
 */

export const DDAS_MAX_PAGE_SIZE = 50_000;
export const DDAS_DEFAULT_PAGE_SIZE = 25_000;

export interface DdasExportRequest extends ExportPeriod {
  page: number;
  pageSize: number;
  /** A municipality code to narrow an all-municipalities key to one. */
  municipality?: string | undefined;
  /** DDAS-VS `aanleverendeOrganisatie`: a municipality (code or name) or the configured organisation. */
  organisation?: string | undefined;
}

export interface DdasExport {
  gegevens: DdasUitwisselmodel;
  paginering: DdasPaginering;
  /** The municipalities whose levering is on this page (for the audit log). */
  delivered: string[];
}

/** Why a request cannot be answered; the route turns each into its HTTP status. */
export class DdasRequestError extends Error {
  constructor(
    readonly kind: 'unknown_municipality' | 'unknown_organisation' | 'page_out_of_range',
    message: string,
  ) {
    super(message);
  }
}

const normalise = (value: string) => value.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * Which municipalities the request covers. Keys bound to a municipality cover that one; an
 * unbound (admin) key covers all, or the one it names. Another municipality's code answers as
 * "unknown", exactly like a code that does not exist: its existence is not disclosed.
 */
async function resolveScope(ctx: AppContext, actor: Actor, request: DdasExportRequest): Promise<MunicipalityName[]> {
  if (request.municipality !== undefined && actor.municipality !== null && request.municipality !== actor.municipality) {
    throw new DdasRequestError('unknown_municipality', 'No such municipality');
  }
  const inScope = await municipalitiesInScope(ctx.pool, request.municipality ?? actor.municipality);
  if (request.municipality !== undefined && inScope.length === 0) throw new DdasRequestError('unknown_municipality', 'No such municipality');
  if (request.organisation === undefined) return inScope;

  // The collector names the organisation the data is about ("Gemeente X", a shared service
  // organisation). The configured delivering organisation stands for everything in scope.
  const wanted = normalise(request.organisation);
  const configured = ctx.config.DDAS_ORGANISATION_NAME;
  if (configured && normalise(configured) === wanted) return inScope;
  const matches = inScope.filter((m) => {
    const names = [m.code, `gm${m.code}`, m.name, `gemeente ${m.name}`].map(normalise);
    return names.includes(wanted);
  });
  if (matches.length === 0) throw new DdasRequestError('unknown_organisation', 'No organisation in the scope of this key has that name');
  return matches;
}

export async function exportDdas(ctx: AppContext, actor: Actor, request: DdasExportRequest): Promise<DdasExport> {
  const municipalities = await resolveScope(ctx, actor, request);
  const period: ExportPeriod = { from: request.from, to: request.to };
  const names = new Map(municipalities.map((m) => [m.code, m.name]));
  const organisation = { name: ctx.config.DDAS_ORGANISATION_NAME, kvk: ctx.config.DDAS_ORGANISATION_KVK };
  // Counts and records from one snapshot, so that a page agrees with its own totals even while
  // signals come in. (Across pages it cannot: see README, "export closed periods".)
  const { plan, leveringen } = await withReportingSnapshot(ctx.pool, async (db) => {
    const counts = await countRecords(db, municipalities.map((m) => m.code), period);
    const plan = planPage(counts, request.page, request.pageSize);
    if (request.page > plan.totalPages) {
      throw new DdasRequestError('page_out_of_range', `There are ${plan.totalPages} page(s) of ${request.pageSize} records for this period`);
    }
    const leveringen: DdasLevering[] = [];
    for (const slice of plan.slices) {
      const signals = await signalPage(db, slice.municipality, period, slice.signals.offset, slice.signals.limit);
      const cases = await casePage(db, slice.municipality, period, slice.cases.offset, slice.cases.limit);
      leveringen.push({
        teller: slice.teller,
        gemeentecode: slice.municipality,
        aanleverendeOrganisatie: aanleverendeOrganisatie(organisation, names.get(slice.municipality) ?? slice.municipality),
        vroegsignalen: signals.map(toVroegsignaal),
        vroegsignaalzaken: cases.map(toVroegsignaalzaak),
      });
    }
    return { plan, leveringen };
  });

  return {
    gegevens: {
      startdatumLevering: request.from,
      einddatumLevering: request.to,
      aanleverdatumEnTijd: deliveryTimestamp(ctx.now()),
      codeGegevensleverancier: ctx.config.DDAS_SUPPLIER_CODE,
      // The schema wants at least one levering when the list is there; a key that sees no
      // municipality at all delivers the header alone.
      ...(leveringen.length > 0 ? { leveringen } : {}),
    },
    paginering: { pageSize: request.pageSize, currentPage: request.page, totalPages: plan.totalPages, totalRecords: plan.totalRecords },
    delivered: leveringen.map((l) => l.gemeentecode),
  };
}
