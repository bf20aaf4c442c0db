import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTACT_CHANNEL_CODES,
  CONTACT_CHANNELS,
  DAY_PART_CODES,
  PARTNER_TYPE_CODES,
  PARTNER_TYPES,
  SIGNAL_STATUS_CODES,
  SIGNAL_STATUSES,
  TASK_RESULT_CODES,
  TASK_RESULTS,
} from '../../src/domain/codes.js';
import {
  aanleverendeOrganisatie,
  deliveryTimestamp,
  eurosFromCents,
  houseNumberAddition,
  planPage,
  toDdasClient,
  toVroegsignaal,
  toVroegsignaalzaak,
  type DdasUitwisselmodel,
  type RecordCounts,
  type SignalExportRow,
  type TaskExportRow,
} from '../../src/domain/ddas.js';
import { ddasSchemaErrors } from '../fixtures/ddas-schema.js';

const signalRow = (overrides: Partial<SignalExportRow> = {}): SignalExportRow => ({
  id: 17,
  crisis: false,
  warmHandover: false,
  amountCents: 12_345,
  originDate: '2025-01-02',
  signalDate: '2025-02-03',
  status: 'not_yet_picked_up',
  partnerType: 'energy',
  bsn: null,
  postcode: '2261AB',
  houseNumber: 12,
  houseLetter: null,
  houseNumberAddition: null,
  ...overrides,
});

const taskRow = (overrides: Partial<TaskExportRow> = {}): TaskExportRow => ({
  result: null,
  matchedOn: '2025-02-04',
  firstSignalReceived: '2025-02-03',
  lastSignalReceived: '2025-02-20',
  pickedUpDate: null,
  signalIds: [17],
  attempts: [],
  ...overrides,
});

function delivery(levering: Partial<NonNullable<DdasUitwisselmodel['leveringen']>[number]>): DdasUitwisselmodel {
  return {
    startdatumLevering: '2025-01-01',
    einddatumLevering: '2025-03-31',
    aanleverdatumEnTijd: deliveryTimestamp(new Date('2025-04-01T08:00:00.123Z')),
    codeGegevensleverancier: 'vroegsein',
    leveringen: [{ teller: 1, gemeentecode: '1916', aanleverendeOrganisatie: { naam: 'Gemeente Pijnacker-Nootdorp' }, vroegsignalen: [], vroegsignaalzaken: [], ...levering }],
  };
}

describe('amounts', () => {
  it('rounds cents to whole euros half up', () => {
    expect([0, 49, 50, 149, 150, 7_549, 7_550, 100_000].map(eurosFromCents)).toEqual([0, 0, 1, 1, 2, 75, 76, 1000]);
  });

  it('refuses what is not an amount in cents', () => {
    expect(() => eurosFromCents(-1)).toThrow(RangeError);
    expect(() => eurosFromCents(1.5)).toThrow(RangeError);
  });

  it('never differs from the exact amount by more than half a euro', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e12 }), (cents) => Math.abs(eurosFromCents(cents) * 100 - cents) <= 50));
  });
});

describe('client', () => {
  it('carries only the BSN when the signal has one', () => {
    expect(toDdasClient(signalRow({ bsn: '111222333', houseLetter: 'A' }))).toEqual({ burgerservicenummer: '111222333' });
  });

  it('carries postcode and house number otherwise, with letter and addition as one toevoeging', () => {
    expect(toDdasClient(signalRow())).toEqual({ postcode: '2261AB', huisnummer: '12' });
    expect(toDdasClient(signalRow({ houseLetter: 'A' }))).toEqual({ postcode: '2261AB', huisnummer: '12', huisnummertoevoeging: 'A' });
    expect(toDdasClient(signalRow({ houseNumberAddition: '2' }))).toEqual({ postcode: '2261AB', huisnummer: '12', huisnummertoevoeging: '2' });
    expect(houseNumberAddition('A', 'BIS')).toBe('A-BIS');
    expect(houseNumberAddition(' ', null)).toBeNull();
  });

  it('falls back to the address for a BSN of the wrong length', () => {
    expect(toDdasClient(signalRow({ bsn: '12345678' }))).toEqual({ postcode: '2261AB', huisnummer: '12' });
  });
});

describe('vroegsignaal and vroegsignaalzaak', () => {
  it('maps a signal field by field with the Dutch code values', () => {
    expect(toVroegsignaal(signalRow({ crisis: true, warmHandover: true, partnerType: 'health_insurance_cak', status: 'picked_up' }))).toEqual({
      ID: '17',
      crisissignaal: true,
      warmeOverdracht: true,
      bedrag: 123,
      ontstaansdatum: '2025-01-02',
      signaaldatum: '2025-02-03',
      status: 'Opgepakt',
      signaalpartner: { type: 'CAK Zorgverzekeringen' },
      client: { postcode: '2261AB', huisnummer: '12' },
    });
    expect(toVroegsignaal(signalRow({ originDate: null }))).not.toHaveProperty('ontstaansdatum');
  });

  it('maps a closed case with its attempts; the pick-up date falls back to the first attempt', () => {
    const zaak = toVroegsignaalzaak(
      taskRow({
        result: 'follow_up_or_referral_financial',
        signalIds: [19, 17, 19],
        attempts: [
          { channel: 'letter', reached: false, date: '2025-02-05', dayPart: null },
          { channel: 'home_visit', reached: true, date: '2025-02-10', dayPart: 'evening' },
        ],
      }),
    );
    expect(zaak).toEqual({
      resultaat: 'Vervolghulp en/of verwijzing financieel',
      matchingsdatum: '2025-02-04',
      startdatumMatchingperiode: '2025-02-03',
      einddatumMatchingperiode: '2025-02-20',
      datumOpgepakt: '2025-02-05',
      vroegsignalen: [{ ID: '17' }, { ID: '19' }],
      contactpogingen: [
        { soort: 'Brief', bereikt: false, datum: '2025-02-05' },
        { soort: 'Huisbezoek', bereikt: true, datum: '2025-02-10', dagdeel: 'Avond' },
      ],
    });
    expect(toVroegsignaalzaak(taskRow({ pickedUpDate: '2025-02-06', attempts: [{ channel: 'phone', reached: true, date: '2025-02-05', dayPart: 'morning' }] })).datumOpgepakt).toBe('2025-02-06');
  });

  it('leaves out what an open case does not have yet', () => {
    const zaak = toVroegsignaalzaak(taskRow({ signalIds: [], firstSignalReceived: null, lastSignalReceived: null }));
    expect(zaak).toEqual({ matchingsdatum: '2025-02-04', startdatumMatchingperiode: '2025-02-04', einddatumMatchingperiode: '2025-02-04', contactpogingen: [] });
  });

  it('writes the delivery time without fraction and the configured organisation', () => {
    expect(deliveryTimestamp(new Date('2025-04-01T08:00:00.123Z'))).toBe('2025-04-01T08:00:00Z');
    expect(aanleverendeOrganisatie({ name: undefined, kvk: undefined }, 'Gemeente X')).toEqual({ naam: 'Gemeente X' });
    expect(aanleverendeOrganisatie({ name: 'Stadsbank', kvk: '12345678' }, 'Gemeente X')).toEqual({ naam: 'Stadsbank', 'kvk-nummer': '12345678' });
  });

  it('produces deliveries the national schema accepts for every code, with and without BSN', () => {
    const signals = [
      ...PARTNER_TYPE_CODES.map((partnerType, i) => signalRow({ id: i + 1, partnerType, bsn: i % 2 ? '111222333' : null, houseLetter: i % 3 ? 'B' : null })),
      ...SIGNAL_STATUS_CODES.map((status, i) => signalRow({ id: 100 + i, status, originDate: null, houseNumberAddition: 'II' })),
    ].map(toVroegsignaal);
    const zaken = [
      ...TASK_RESULT_CODES.map((result, i) => taskRow({ result, signalIds: [i + 1] })),
      taskRow({
        signalIds: [1, 2],
        attempts: CONTACT_CHANNEL_CODES.map((channel, i) => ({ channel, reached: i % 2 === 0, date: '2025-02-10', dayPart: DAY_PART_CODES[i % 3] ?? null })),
      }),
    ].map(toVroegsignaalzaak);
    expect(ddasSchemaErrors(delivery({ vroegsignalen: signals, vroegsignaalzaken: zaken }))).toEqual([]);
    expect(new Set(signals.map((s) => s.signaalpartner.type))).toEqual(new Set(Object.values(PARTNER_TYPES)));
    expect(new Set(signals.map((s) => s.status))).toEqual(new Set(Object.values(SIGNAL_STATUSES)));
    expect(new Set(zaken.map((z) => z.resultaat).filter(Boolean))).toEqual(new Set(Object.values(TASK_RESULTS)));
    expect(new Set(zaken.flatMap((z) => z.contactpogingen.map((c) => c.soort)))).toEqual(new Set(Object.values(CONTACT_CHANNELS)));
  });

  it('is checked by a validator that does reject what the schema forbids', () => {
    const withName = { ...toVroegsignaal(signalRow({ bsn: '111222333' })), client: { burgerservicenummer: '111222333', postcode: '2261AB' } };
    expect(ddasSchemaErrors(delivery({ vroegsignalen: [withName] }))).not.toEqual([]);
    expect(ddasSchemaErrors(delivery({ vroegsignalen: [{ ...toVroegsignaal(signalRow()), bedrag: 1.5 }] }))).not.toEqual([]);
    expect(ddasSchemaErrors(delivery({ vroegsignaalzaken: [{ ...toVroegsignaalzaak(taskRow()), vroegsignalen: [] }] }))).not.toEqual([]);
  });
});

describe('page plan', () => {
  const counts: RecordCounts[] = [
    { municipality: '0001', signals: 3, cases: 2 },
    { municipality: '0002', signals: 0, cases: 0 },
    { municipality: '0003', signals: 4, cases: 1 },
  ];

  it('numbers records per municipality, signals first, then cases', () => {
    expect(planPage(counts, 1, 4)).toEqual({
      totalRecords: 10,
      totalPages: 3,
      slices: [
        { municipality: '0001', teller: 1, signals: { offset: 0, limit: 3 }, cases: { offset: 0, limit: 1 } },
        { municipality: '0002', teller: 2, signals: { offset: 0, limit: 0 }, cases: { offset: 0, limit: 0 } },
      ],
    });
    expect(planPage(counts, 2, 4).slices).toEqual([
      { municipality: '0001', teller: 1, signals: { offset: 0, limit: 0 }, cases: { offset: 1, limit: 1 } },
      { municipality: '0003', teller: 3, signals: { offset: 0, limit: 3 }, cases: { offset: 0, limit: 0 } },
    ]);
    expect(planPage(counts, 3, 4).slices).toEqual([{ municipality: '0003', teller: 3, signals: { offset: 3, limit: 1 }, cases: { offset: 0, limit: 1 } }]);
  });

  it('has one page for nothing at all, with the empty leveringen on it', () => {
    expect(planPage([{ municipality: '0001', signals: 0, cases: 0 }], 1, 100)).toEqual({
      totalRecords: 0,
      totalPages: 1,
      slices: [{ municipality: '0001', teller: 1, signals: { offset: 0, limit: 0 }, cases: { offset: 0, limit: 0 } }],
    });
    expect(planPage([], 1, 100)).toEqual({ totalRecords: 0, totalPages: 1, slices: [] });
  });

  it('puts every record on exactly one page, and at most pageSize on each', () => {
    const arbitraryCounts = fc.array(fc.record({ signals: fc.nat(40), cases: fc.nat(40) }), { maxLength: 6 });
    fc.assert(
      fc.property(arbitraryCounts, fc.integer({ min: 1, max: 30 }), (raw, pageSize) => {
        const list = raw.map((c, i) => ({ municipality: String(i).padStart(4, '0'), ...c }));
        const { totalPages, totalRecords } = planPage(list, 1, pageSize);
        const seen = new Map<string, number>();
        for (let page = 1; page <= totalPages; page++) {
          const { slices } = planPage(list, page, pageSize);
          let onPage = 0;
          for (const slice of slices) {
            onPage += slice.signals.limit + slice.cases.limit;
            for (let i = 0; i < slice.signals.limit; i++) seen.set(`${slice.municipality}s${slice.signals.offset + i}`, (seen.get(`${slice.municipality}s${slice.signals.offset + i}`) ?? 0) + 1);
            for (let i = 0; i < slice.cases.limit; i++) seen.set(`${slice.municipality}c${slice.cases.offset + i}`, (seen.get(`${slice.municipality}c${slice.cases.offset + i}`) ?? 0) + 1);
          }
          if (onPage > pageSize) return false;
        }
        const expected = list.reduce((sum, c) => sum + c.signals + c.cases, 0);
        return totalRecords === expected && seen.size === expected && [...seen.values()].every((n) => n === 1);
      }),
    );
  });

  it('refuses a page or page size below 1', () => {
    expect(() => planPage(counts, 0, 10)).toThrow(RangeError);
    expect(() => planPage(counts, 1, 0)).toThrow(RangeError);
  });
});
