import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/db/apiKeys.js';
import { ensureDefaultRuleSets } from '../../src/db/ruleSets.js';
import { dutchToday } from '../../src/domain/dates.js';
import { addDays } from '../../src/domain/workingDays.js';
import { defaultRuleSet, evaluateHouseholds } from '../../src/services/evaluation.js';
import { importCsvStream } from '../../src/services/intake.js';
import { axeViolations, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * The consultant's pages in a real browser: sign in, take the next household, record two
 * contact attempts, close it; the same without JavaScript; no other municipality's household
 * by editing the URL; CSRF and revoked keys. axe-core checks every page visited.
 */

let t: TestContext;
let server: TestServer;
let browser: TestBrowser;
let consultant: { id: string; key: string };
const day = (offset: number) => addDays(dutchToday(), offset);
let otherMunicipalityHousehold: number;
let otherTeamHousehold: number;

async function importCsv(csv: string): Promise<number[]> {
  await importCsvStream(t.ctx, Readable.from([csv]), { source: 'cli' });
  const { rows } = await t.ctx.pool.query<{ id: number }>(`select household_id as id from evaluation_queue order by household_id`);
  await evaluateHouseholds(t.ctx, rows.map((r) => r.id));
  return rows.map((r) => r.id);
}

async function householdAt(postcode: string, houseNumber: number): Promise<number> {
  const { rows } = await t.ctx.pool.query<{ id: number }>(`select id from households where postcode = $1 and house_number = $2`, [postcode, houseNumber]);
  return rows[0]!.id;
}

/** Every page a test visits is checked: no serious or critical WCAG 2.1 AA violations. */
async function checkAccessible(name: string): Promise<void> {
  expect(await axeViolations(browser.page), `axe on ${name}`).toEqual([]);
}

async function signIn(b: TestBrowser, key: string): Promise<void> {
  await b.page.goto(`${server.url}/web/queue`);
  expect(new URL(b.page.url()).pathname).toBe('/web/sign-in');
  await b.page.getByLabel('API-sleutel').fill(key);
  await b.page.getByRole('button', { name: 'Aanmelden' }).click();
  await b.page.waitForURL(`${server.url}/web/queue`);
}

beforeAll(async () => {
  t = await createTestContext('web_consultant');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261', '2262'], [
    { id: 'noord', areas: ['2261'] },
    { id: 'zuid', areas: ['2262'] },
  ]);
  await seedMunicipality(t.ctx, '0363', ['1011']);
  await ensureDefaultRuleSets(t.ctx.pool, defaultRuleSet());
  await importCsv(
    [
      'externalId;partnerType;partnerName;signalDate;originDate;amountCents;crisis;endOfSupply;postcode;houseNumber;initials;surname;birthDate;phone;email;childrenInHousehold',
      `h1-rent;rent;Woonstede;${day(-6)};${day(-120)};145000;ja;;2261AB;12;J.;Jansen;1990-04-01;0612345678;j.jansen@example.nl;2`,
      `h1-energy;energy;Stroomnet;${day(-5)};${day(-60)};38000;;;2261AB;12;J.;Jansen;1990-04-01;;;`,
      `h2-water;water;Waterbedrijf;${day(-4)};;9000;;;2261AC;3;;;;;;`,
      `h3-health;health_insurance;Zorgverzekeraar;${day(-4)};;52000;;;2261AD;8;;;;;;`,
      `z1-rent;rent;Woonstede;${day(-4)};;80000;;;2262CD;5;;;;;;`,
      `a1-rent;rent;Stadgenoot;${day(-4)};;99000;ja;;1011AB;1;;;;;;`,
    ].join('\n'),
  );
  otherMunicipalityHousehold = await householdAt('1011AB', 1);
  otherTeamHousehold = await householdAt('2262CD', 5);
  consultant = await createKeyWithId(t.ctx, { role: 'consultant', municipality: '1916', teams: ['noord'], label: 'Sanne de Vries' });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

describe('consultant pages', () => {
  it('signs in, takes the next household, records two attempts and closes it', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/queue`);
    await checkAccessible('sign-in');
    await screenshot(page, 'web-consultant-sign-in');
    await signIn(browser, consultant.key);

    // The session cookie is HttpOnly and SameSite=Strict, and holds no API key.
    const [cookie] = await browser.context.cookies(server.url);
    expect(cookie).toMatchObject({ name: 'vs_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain('vs_');

    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Mijn werkvoorraad');
    // The crisis household comes first (the default rules give it 100 points and more).
    const firstRow = page.locator('tbody tr').first();
    expect(await firstRow.textContent()).toContain('Huur');
    await checkAccessible('queue');
    await screenshot(page, 'web-consultant-queue');

    await page.getByRole('button', { name: 'Pak het volgende huishouden' }).click();
    await page.waitForURL(/\/web\/households\/\d+/);
    const householdId = Number(/households\/(\d+)/.exec(page.url())![1]);
    expect(householdId).toBe(await householdAt('2261AB', 12));
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('U heeft dit huishouden opgepakt');
    // Why it is on the list: the rules that fired, with their fact values, in plain words.
    const why = page.locator('section', { has: page.getByRole('heading', { name: 'Waarom staat dit huishouden op de lijst?' }) });
    expect(await why.textContent()).toContain('Urgent: crisis, dreigende uitzetting of afsluiting');
    expect(await why.textContent()).toContain('crisissignaal');
    expect(await why.textContent()).toMatch(/regelset versie 1/);
    // The children the housing corporation reported: a rule of their own, and a mark on the signal.
    expect(await why.textContent()).toContain('Gezin met kinderen');
    expect(await page.getByText('2 kinderen', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByText('Jansen').first().isVisible()).toBe(true);
    // Without an attempt that reached the resident, results that imply contact are not offered.
    const offered = await page.getByLabel('Resultaat', { exact: true }).locator('option').allTextContents();
    expect(offered).not.toContain('(Budget)advies en/of quick fix');
    await checkAccessible('household');

    await page.getByLabel('Kanaal').selectOption('phone');
    await page.getByLabel('Datum').fill(day(-1));
    await page.getByLabel('Dagdeel (niet verplicht)').selectOption('morning');
    await page.getByLabel('Nee, niet bereikt').check();
    await page.getByRole('button', { name: 'Contactpoging vastleggen' }).click();
    await page.waitForURL(/done=attempt/);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('De contactpoging is vastgelegd');

    await page.getByLabel('Kanaal').selectOption('home_visit');
    await page.getByLabel('Ja, bereikt').check();
    await page.getByRole('button', { name: 'Contactpoging vastleggen' }).click();
    await page.waitForURL(/done=attempt/);
    const attempts = page.getByRole('table', { name: /Contactpogingen van taak/ }).locator('tbody tr');
    expect(await attempts.count()).toBe(2);

    await page.getByLabel('Notitie', { exact: true }).fill('Mevrouw Jansen thuis getroffen; budgetgesprek gepland.');
    await page.getByRole('button', { name: 'Notitie toevoegen' }).click();
    await page.waitForURL(/done=note/);
    expect(await page.getByText('budgetgesprek gepland').isVisible()).toBe(true);
    await checkAccessible('household after attempts');
    await screenshot(page, 'web-consultant-household');

    await page.getByLabel('Resultaat', { exact: true }).selectOption('advice_or_quick_fix');
    await page.getByRole('button', { name: 'Taak afsluiten' }).click();
    await page.waitForURL(/\/web\/queue\?done=closed/);
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('De taak is afgesloten');

    const { rows } = await t.ctx.pool.query(`select status, result, assignee_key_id from tasks where household_id = $1`, [householdId]);
    expect(rows).toEqual([{ status: 'closed', result: 'advice_or_quick_fix', assignee_key_id: consultant.id }]);
    const attemptRows = await t.ctx.pool.query(`select a.channel, a.reached from contact_attempts a join tasks t on t.id = a.task_id where t.household_id = $1 order by a.id`, [householdId]);
    expect(attemptRows.rows).toEqual([
      { channel: 'phone', reached: false },
      { channel: 'home_visit', reached: true },
    ]);
    // Reads of personal data and every change are in the audit log, as for the API.
    const audit = await t.ctx.pool.query<{ action: string }>(`select distinct action from audit_events where actor_key_id = $1 order by action`, [consultant.id]);
    expect(audit.rows.map((r) => r.action)).toEqual(
      expect.arrayContaining(['web.sign-in', 'household.read', 'task.queue.read', 'task.claim', 'task.contact-attempt.create', 'task.note.create', 'task.close']),
    );

    // The closed task now shows as an earlier task with its result.
    await page.goto(`${server.url}/web/households/${householdId}`);
    expect(await page.locator('section', { has: page.getByRole('heading', { name: 'Eerdere taken' }) }).textContent()).toContain('(Budget)advies en/of quick fix');
    expect(browser.problems).toEqual([]);
  });

  it('cannot open another municipality’s household, nor another team’s, by editing the URL', async () => {
    const { page } = browser;
    for (const id of [otherMunicipalityHousehold, otherTeamHousehold, 999_999]) {
      const response = await page.goto(`${server.url}/web/households/${id}`);
      expect(response!.status()).toBe(404);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Niet gevonden');
      // The page gives nothing away: no address, no amounts.
      expect(await page.content()).not.toMatch(/1011|Stadgenoot|2262/);
    }
    await checkAccessible('not found');
    await screenshot(page, 'web-consultant-not-found');
    // The work forms are scoped as well: another municipality's task cannot be claimed.
    const { rows } = await t.ctx.pool.query<{ id: number }>(`select id from tasks where household_id = $1`, [otherMunicipalityHousehold]);
    const csrf = await page.evaluate(() => fetch('/web/queue').then((r) => r.text()).then((html) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''));
    const status = await page.evaluate(
      async ({ id, token }) => (await fetch(`/web/tasks/${id}/claim`, { method: 'POST', body: new URLSearchParams({ _csrf: token }) })).status,
      { id: rows[0]!.id, token: csrf },
    );
    expect(status).toBe(404);
  });

  it('refuses a form post without the session’s CSRF token', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/queue`);
    const claims = async () => (await t.ctx.pool.query(`select count(*)::int as n from task_history where action = 'claim'`)).rows[0].n as number;
    const before = await claims();
    const status = await page.evaluate(async () => (await fetch('/web/queue/claim-next', { method: 'POST', body: new URLSearchParams({ _csrf: 'forged' }) })).status);
    expect(status).toBe(403);
    const none = await page.evaluate(async () => (await fetch('/web/queue/claim-next', { method: 'POST' })).status);
    expect(none).toBe(403);
    expect(await claims()).toBe(before);
  });

  it('works without JavaScript: claim, record, close', async () => {
    const noScript = await launchBrowser({ javaScriptEnabled: false });
    try {
      await signIn(noScript, consultant.key);
      const { page } = noScript;
      await page.getByRole('button', { name: 'Pak het volgende huishouden' }).click();
      await page.waitForURL(/\/web\/households\/\d+/);
      await page.getByLabel('Kanaal').selectOption('letter');
      await page.getByLabel('Ja, bereikt').check();
      await page.getByRole('button', { name: 'Contactpoging vastleggen' }).click();
      await page.waitForURL(/done=attempt/);
      await page.getByLabel('Resultaat', { exact: true }).selectOption('no_help_needed');
      await page.getByRole('button', { name: 'Taak afsluiten' }).click();
      await page.waitForURL(/done=closed/);
      const { rows } = await t.ctx.pool.query(`select result from tasks where status = 'closed' and result = 'no_help_needed'`);
      expect(rows).toHaveLength(1);
      expect(noScript.problems).toEqual([]);
    } finally {
      await noScript.close();
    }
  });

  it('ends the session when the key is revoked, and on sign-out', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/web/queue`);
    expect(new URL(page.url()).pathname).toBe('/web/queue');
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from web_sessions where api_key_id = $1`, [consultant.id]);
    expect(rows[0].n).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Afmelden' }).click();
    await page.waitForURL(/\/web\/sign-in\?signedOut=1/);
    await page.goto(`${server.url}/web/queue`);
    expect(new URL(page.url()).pathname).toBe('/web/sign-in');

    await signIn(browser, consultant.key);
    await revokeApiKey(t.ctx.pool, consultant.id);
    await page.goto(`${server.url}/web/queue`);
    expect(new URL(page.url()).pathname).toBe('/web/sign-in');
    const after = await t.ctx.pool.query(`select count(*)::int as n from web_sessions where api_key_id = $1`, [consultant.id]);
    expect(after.rows[0].n).toBe(0);
    // A revoked key cannot sign in again either.
    await page.getByLabel('API-sleutel').fill(consultant.key);
    await page.getByRole('button', { name: 'Aanmelden' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('onbekend of ingetrokken');
    await checkAccessible('sign-in with error');
  });
});
