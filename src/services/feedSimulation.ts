import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { addressKey } from '../domain/address.js';
import { dutchToday } from '../domain/dates.js';
import { computeHouseholdFacts, type HouseholdSnapshot } from '../domain/facts.js';
import { csvRecordToItem, validateSignalItem } from '../domain/signal.js';
import { compileRuleSet, evaluateAsync } from '../rules/compile.js';
import type { RuleSet } from '../rules/schema.js';
import { SimulationAccumulator, type SimulationResult } from '../rules/simulate.js';

/**
 * The offline simulation of the CLI: two rule sets over the households in a signal CSV, with
 * no server and no database. Households are the feed's addresses; nothing earlier is known, so
 * facts about earlier tasks (repeat, previous result) are those of a first contact.
 */
export async function simulateOnFeed(
  file: string,
  candidate: RuleSet,
  against: RuleSet,
  options: { today?: string; defaultDueWorkingDays?: number } = {},
): Promise<SimulationResult & { rows: number; rejectedRows: number }> {
  const households = new Map<string, HouseholdSnapshot & { label: string }>();
  let rows = 0;
  let rejectedRows = 0;
  const today = options.today ?? dutchToday();
  const firstLine = await readFirstLine(file);
  const delimiter = (firstLine.match(/;/g) ?? []).length > (firstLine.match(/,/g) ?? []).length ? ';' : ',';
  const parser = createReadStream(file).pipe(parse({ bom: true, columns: true, delimiter, skip_empty_lines: true, trim: true, relax_column_count: true }));
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    rows++;
    const result = validateSignalItem(csvRecordToItem(record));
    if (!result.ok) {
      rejectedRows++;
      continue;
    }
    const item = result.value;
    const key = addressKey(item.address);
    let household = households.get(key);
    if (!household) {
      // Labelled by the feed's line number, never by the address.
      household = { label: `line ${rows + 1}`, householdId: households.size + 1, municipalityCode: null, postcode: item.address.postcode, signals: [], tasks: [], today };
      households.set(key, household);
    }
    household.signals.push({
      id: rows,
      partnerType: item.partnerType,
      amountCents: item.amountCents,
      signalDate: item.signalDate,
      originDate: item.originDate ?? null,
      receivedAt: `${item.signalDate}T12:00:00.000Z`,
      crisis: item.crisis ?? false,
      warmHandover: item.warmHandover ?? false,
      endOfSupply: item.endOfSupply ?? false,
      childrenInHousehold: item.childrenInHousehold ?? null,
      birthDate: item.person.birthDate ?? null,
      status: 'not_yet_picked_up',
      taskId: null,
    });
  }
  const before = compileRuleSet(against);
  const after = compileRuleSet(candidate);
  const accumulator = new SimulationAccumulator({ before: against.rules.map((r) => r.name), after: candidate.rules.map((r) => r.name) });
  const evaluateOptions = { defaultDueWorkingDays: options.defaultDueWorkingDays ?? 10 };
  for (const household of households.values()) {
    const facts = computeHouseholdFacts(household);
    const [outcomeBefore, outcomeAfter] = await Promise.all([evaluateAsync(before, facts, evaluateOptions), evaluateAsync(after, facts, evaluateOptions)]);
    accumulator.add({ householdId: household.label, before: outcomeBefore, after: outcomeAfter, teamBefore: outcomeBefore.team, teamAfter: outcomeAfter.team });
  }
  return { rows, rejectedRows, ...accumulator.result() };
}

async function readFirstLine(file: string): Promise<string> {
  const stream = createReadStream(file, { encoding: 'utf8', start: 0, end: 4095 });
  let text = '';
  for await (const chunk of stream) text += chunk as string;
  return text.split(/\r?\n/)[0] ?? '';
}
