import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDefaultRuleSets } from '../../src/db/ruleSets.js';
import { dutchToday } from '../../src/domain/dates.js';
import { addDays } from '../../src/domain/workingDays.js';
import { defaultRuleSet, evaluateHouseholds } from '../../src/services/evaluation.js';
import { importCsvStream } from '../../src/services/intake.js';
import { takeMonitorSnapshot } from '../../src/services/monitorSnapshots.js';
import { axeViolations, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * The coordinator's pages in a real browser: the overview with its charts, tables and CSV; a
 * rule change validated, simulated, published and rolled back; the teams. axe-core checks
 * every page visited.
 */

let t: TestContext;
let server: TestServer;
let browser: TestBrowser;
let coordinator: { id: string; key: string };
const day = (offset: number) => addDays(dutchToday(), offset);

async function checkAccessible(name: string): Promise<void> {
  expect(await axeViolations(browser.page), `axe on ${name}`).toEqual([]);
}

/** The default rules plus one that puts energy arrears first: a change the simulation can see. */
function candidate(extra: Record<string, unknown>): string {
  const base = defaultRuleSet();
  return JSON.stringify({ ...base, name: 'vroegsein-standaard met energie', rules: [...base.rules, extra] }, null, 2);
}

const ENERGY_FIRST = {
  name: 'Energie eerst',
  conditions: { all: [{ fact: 'energyCount', operator: 'greaterThanInclusive', value: 1 }] },
  event: { type: 'score', params: { points: 40, reason: 'Energieachterstand: winter.' } },
};

async function activeVersion(): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ v: number }>(`select active_rule_set_version as v from municipalities where code = '1916'`);
  return rows[0]!.v;
}

beforeAll(async () => {
  t = await createTestContext('web_coordinator');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [
    { id: 'noord', areas: ['2261'] },
    { id: 'zuid', areas: ['2262'] },
  ]);
  await ensureDefaultRuleSets(t.ctx.pool, defaultRuleSet());
  const csv = [
    'externalId;partnerType;signalDate;originDate;amountCents;crisis;postcode;houseNumber',
    `e1;energy;${day(-20)};${day(-90)};45000;;2261AA;1`,
    `r1;rent;${day(-20)};${day(-150)};120000;ja;2261AA;2`,
    `w1;water;${day(-15)};;3000;;2261AB;7`,
    `h1;health_insurance;${day(-10)};;60000;;2262CD;12`,
    `e2;energy;${day(-5)};;80000;;2262CD;14`,
    `e3;energy;${day(-40)};;20000;;2262CD;16`,
  ].join('\n');
  await importCsvStream(t.ctx, Readable.from([csv]), { source: 'cli' });
  const { rows } = await t.ctx.pool.query<{ id: number }>(`select household_id as id from evaluation_queue`);
  await evaluateHouseholds(t.ctx, rows.map((r) => r.id));
  // Some history for the charts: one task overdue, one closed with a result after contact.
  await t.ctx.pool.query(`update tasks set overdue = true, due_date = $1 where household_id = (select id from households where postcode = '2262CD' and house_number = 16)`, [day(-2)]);
  const { rows: closing } = await t.ctx.pool.query<{ id: number }>(`select t.id from tasks t join households h on h.id = t.household_id where h.postcode = '2261AB'`);
  await t.ctx.pool.query(`insert into contact_attempts (task_id, channel, reached, attempt_date) values ($1, 'phone', true, $2)`, [closing[0]!.id, day(0)]);
  await t.ctx.pool.query(`update tasks set status = 'closed', result = 'advice_or_quick_fix', picked_up_date = $2, closed_at = now() where id = $1`, [closing[0]!.id, day(0)]);
  await takeMonitorSnapshot(t.ctx);
  coordinator = await createKeyWithId(t.ctx, { role: 'coordinator', municipality: '1916', label: 'Coördinator Noord-Zuid' });
  await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'Ahmed Bakker' });
  browser = await launchBrowser();
  browser.page.on('dialog', (dialog) => void dialog.accept());
  await browser.page.goto(`${server.url}/web/sign-in`);
  await browser.page.getByLabel('API-sleutel').fill(coordinator.key);
  await browser.page.getByRole('button', { name: 'Aanmelden' }).click();
  await browser.page.waitForURL(`${server.url}/web/overview`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

describe('coordinator pages', () => {
  it('shows the overview as charts with the numbers behind them and a CSV per chart', async () => {
    const { page } = browser;
    const captions = await page.locator('figure.chart figcaption').allTextContents();
    expect(captions).toEqual([
      'Signalen per soort schuldeiser per maand',
      'Bereik en tijd tot eerste contact per maand',
      'Resultaten van afgesloten taken',
      'Te late taken per team (nu)',
      'Werkvoorraad aan het eind van de dag',
    ]);
    // Chart.js drew every chart from its table.
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll('canvas')].filter((c) => (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart.getChart(c)).length)).toBe(5);
    const overdue = page.getByRole('region', { name: 'Te late taken per team (nu)' });
    expect(await overdue.textContent()).toContain('zuid');
    // Today's snapshot: five open tasks, none claimed, one of them overdue.
    const stock = await page
      .getByRole('region', { name: 'Werkvoorraad aan het eind van de dag' })
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].slice(1).map((td) => td.textContent!.trim())));
    expect(stock).toEqual([['5', '0', '1']]);
    const csv = await page.evaluate(async () => {
      const link = [...document.querySelectorAll('a')].find((a) => a.href.includes('/csv/signals-by-partner-type'))!;
      const response = await fetch(link.href);
      return { type: response.headers.get('content-type'), text: await response.text() };
    });
    expect(csv.type).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe('Maand,Energie,Huur,Zorg,Water');
    await checkAccessible('overview');
    await screenshot(page, 'web-coordinator-overview');
    expect(browser.problems).toEqual([]);
  });

  it('validates a candidate and shows errors at the rule they concern', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/rules`);
    await checkAccessible('rules');
    const broken = candidate({ ...ENERGY_FIRST, conditions: { all: [{ fact: 'energyCont', operator: 'greaterThanInclusive', value: 1 }] } });
    await page.getByLabel('Regelset (JSON)').fill(broken);
    await page.getByRole('button', { name: 'Controleren' }).click();
    const errors = page.locator('.rule-errors');
    await errors.waitFor();
    const ruleNumber = defaultRuleSet().rules.length + 1;
    expect(await errors.textContent()).toContain(`Regel ${ruleNumber}: “Energie eerst”`);
    expect(await errors.textContent()).toContain('/conditions/all/0/fact');
    expect(await page.getByLabel('Regelset (JSON)').inputValue()).toBe(broken);
    await checkAccessible('rules with errors');
    await screenshot(page, 'web-coordinator-rules-errors');
  });

  it('simulates a rule change, publishes it and rolls back', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/rules`);
    await page.getByLabel('Regelset (JSON)').fill(candidate(ENERGY_FIRST));
    await page.getByLabel('Simuleren vanaf').fill(day(-60));
    await page.getByRole('button', { name: 'Simuleren' }).click();
    const heading = page.getByRole('heading', { name: /Simulatie op \d+ huishoudens/ });
    await heading.waitFor();
    expect(await heading.textContent()).toContain('Simulatie op 6 huishoudens');
    const summary = await page.locator('dl.summary').textContent();
    expect(summary).toMatch(/Hogere prioriteit\s*3/);
    expect(await page.getByRole('region', { name: 'Grootste verschuivingen' }).textContent()).toContain('Energie eerst');
    await expect.poll(() => page.evaluate(() => [...document.querySelectorAll('canvas')].filter((c) => (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart.getChart(c)).length)).toBe(1);
    expect(await activeVersion()).toBe(1);
    await checkAccessible('simulation');
    await screenshot(page, 'web-coordinator-simulation');

    await page.getByLabel('Toelichting bij publiceren').fill('Energie eerst in de winter');
    await page.getByRole('button', { name: 'Publiceren' }).click();
    await page.getByText('Versie 2 is gepubliceerd en actief').waitFor();
    expect(await activeVersion()).toBe(2);
    const { rows } = await t.ctx.pool.query(`select note, author_label from rule_sets where municipality_code = '1916' and version = 2`);
    expect(rows[0]).toEqual({ note: 'Energie eerst in de winter', author_label: 'Coördinator Noord-Zuid' });
    // Open tasks were re-scored with the new version.
    const rescored = await t.ctx.pool.query(`select count(*)::int as n from tasks where status = 'open' and rule_set_version = 2`);
    expect(rescored.rows[0].n).toBeGreaterThan(0);

    // The diff of versions 1 and 2, side by side, shows the added rule.
    await page.goto(`${server.url}/web/rules?a=1&b=2`);
    const diff = page.getByRole('region', { name: 'Verschil tussen versie 1 en 2' });
    expect(await diff.locator('td.added').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('"name": "Energie eerst"')]));
    await checkAccessible('rules diff');
    await screenshot(page, 'web-coordinator-rules-diff');

    await page.getByRole('button', { name: 'Versie 1 activeren' }).click();
    await page.getByText('Versie 1 is weer actief').waitFor();
    expect(await activeVersion()).toBe(1);
    const audit = await t.ctx.pool.query<{ action: string }>(`select action from audit_events where actor_key_id = $1 and action like 'rule-set.%' order by id`, [coordinator.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['rule-set.simulate', 'rule-set.publish', 'rule-set.activate']);
    expect(browser.problems).toEqual([]);
  });

  it('shows the teams with their postcode areas and consultants, and saves a team', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/teams`);
    const table = page.getByRole('region', { name: 'Teams' });
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/Team noord.*2261.*Ahmed Bakker/);
    await checkAccessible('teams');
    await page.getByLabel('Code van het team').fill('west');
    await page.getByLabel('Naam').fill('Team West');
    await page.getByLabel('Postcodegebieden').fill('2263, 2264');
    await page.getByRole('button', { name: 'Team opslaan' }).click();
    await page.getByText('Team west is opgeslagen').waitFor();
    expect(await table.textContent()).toContain('2263, 2264');
    await screenshot(page, 'web-coordinator-teams');
  });
});
