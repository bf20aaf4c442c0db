import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { teamForPostcodeArea, teamsByPostcodeArea } from '../../src/domain/outreach.js';

describe('routing by postcode area', () => {
  it('the lookup table gives every area the team teamForPostcodeArea gives it, overlapping areas included', () => {
    const area = fc.integer({ min: 1000, max: 1030 }).map(String);
    const teams = fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), postcodeAreas: fc.array(area, { maxLength: 12 }) }), {
      selector: (team) => team.id,
      maxLength: 6,
    });
    fc.assert(
      fc.property(teams, fc.array(area, { minLength: 1, maxLength: 20 }), (list, asked) => {
        const table = teamsByPostcodeArea(list);
        for (const pc4 of asked) expect(table.get(pc4) ?? null).toBe(teamForPostcodeArea(list, pc4));
      }),
    );
  });

  it('the first team in order wins an area two teams share', () => {
    const table = teamsByPostcodeArea([
      { id: 'noord', postcodeAreas: ['2261', '2262'] },
      { id: 'zuid', postcodeAreas: ['2262', '2263'] },
    ]);
    expect([table.get('2261'), table.get('2262'), table.get('2263'), table.get('9999')]).toEqual(['noord', 'noord', 'zuid', undefined]);
  });
});
