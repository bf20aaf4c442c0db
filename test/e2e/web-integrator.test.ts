import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dutchToday } from '../../src/domain/dates.js';
import { addDays } from '../../src/domain/workingDays.js';
import { readField, readParts } from '../../src/web/multipart.js';
import { axeViolations, launchBrowser, screenshot, type TestBrowser } from '../helpers/browser.js';
import { createTestContext, seedMunicipality, startTestServer, type TestContext, type TestServer } from '../helpers/context.js';
import { createKeyWithId } from '../helpers/tasks.js';

/**
 * The integrator's upload page in a real browser: a CSV with bad rows, the batch answer with
 * every rejected row (line, column, reason), the earlier batches; a broken header; and the
 * streaming multipart reader on awkward chunk boundaries.
 */

let t: TestContext;
let server: TestServer;
let browser: TestBrowser;
let integrator: { id: string; key: string };
const day = (offset: number) => addDays(dutchToday(), offset);

async function checkAccessible(name: string): Promise<void> {
  expect(await axeViolations(browser.page), `axe on ${name}`).toEqual([]);
}

const GOOD_AND_BAD = [
  'externalId;partnerType;signalDate;amountCents;postcode;houseNumber;crisis',
  `w-1;water;${day(-3)};4500;2261AB;1;nee`,
  `w-2;water;${day(-3)};5600;2261XX9;2;nee`,
  `w-3;water;${day(-2)};7800;2261AB;3;ja`,
  `w-4;water;2026-13-45;1000;2261AB;4;nee`,
  `w-5;water;${day(-1)};9900;2261AB;5`,
  `w-6;water;${day(-1)};9900;2261AB;6;nee`,
].join('\n');

async function upload(name: string, content: string): Promise<void> {
  const { page } = browser;
  await page.goto(`${server.url}/web/upload`);
  await page.getByLabel('CSV-bestand').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(content, 'utf8') });
  await page.getByRole('button', { name: 'Uploaden en controleren' }).click();
}

beforeAll(async () => {
  t = await createTestContext('web_integrator');
  server = await startTestServer(t.ctx);
  await seedMunicipality(t.ctx, '1916', ['2261']);
  integrator = await createKeyWithId(t.ctx, { role: 'integrator', label: 'Waterbedrijf Zuid-Holland' });
  browser = await launchBrowser();
  await browser.page.goto(`${server.url}/web/sign-in`);
  await browser.page.getByLabel('API-sleutel').fill(integrator.key);
  await browser.page.getByRole('button', { name: 'Aanmelden' }).click();
  await browser.page.waitForURL(`${server.url}/web/upload`);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await t?.close();
});

describe('integrator pages', () => {
  it('uploads a CSV with bad rows and lists every rejected row with line, column and reason', async () => {
    const { page } = browser;
    await checkAccessible('upload');
    await upload('water-november.csv', GOOD_AND_BAD);
    await page.waitForURL(/\/web\/upload\/batches\/[0-9a-f-]{36}$/);
    const notice = await page.getByRole('status').first().textContent();
    expect(notice).toContain('3 nieuwe signalen opgeslagen');
    expect(notice).toContain('3 regels afgewezen');
    const rows = await page
      .getByRole('region', { name: 'Afgewezen regels' })
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((td) => td.textContent!.trim())));
    expect(rows).toEqual([
      ['3', 'postcode', 'geen Nederlandse postcode (zoals 1234AB)'],
      ['5', 'signalDate', 'signalDate is geen datum (JJJJ-MM-DD)'],
      ['6', 'hele regel', 'de regel heeft 6 velden, de kopregel 7'],
    ]);
    const { rows: stored } = await t.ctx.pool.query(`select external_id from signals order by external_id`);
    expect(stored.map((r) => r.external_id)).toEqual(['w-1', 'w-3', 'w-6']);
    await checkAccessible('batch');
    await screenshot(page, 'web-integrator-batch');
    expect(browser.problems).toEqual([]);
  });

  it('counts a resent file as duplicates and lists the earlier batches', async () => {
    const { page } = browser;
    await upload('water-november.csv', GOOD_AND_BAD);
    await page.waitForURL(/\/web\/upload\/batches\//);
    expect(await page.getByRole('status').first().textContent()).toContain('3 al eerder ontvangen');
    // Which ones, by line and externalId.
    const duplicates = await page
      .getByRole('region', { name: 'Dubbele regels' })
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((td) => td.textContent!.trim())));
    expect(duplicates).toEqual([
      ['2', 'w-1'],
      ['4', 'w-3'],
      ['7', 'w-6'],
    ]);
    await checkAccessible('batch with duplicates');
    await page.goto(`${server.url}/web/upload`);
    const earlier = page.getByRole('region', { name: 'Eerdere aanleveringen' }).locator('tbody tr');
    expect(await earlier.count()).toBe(2);
    expect(await earlier.first().textContent()).toContain('water-november.csv');
    await screenshot(page, 'web-integrator-upload');
    // The upload is audited as intake by this key, like POST /v1/signals.
    const { rows } = await t.ctx.pool.query(`select count(*)::int as n from audit_events where actor_key_id = $1 and action = 'signals.intake'`, [integrator.id]);
    expect(rows[0].n).toBe(2);
  });

  it('explains a file whose header is wrong', async () => {
    const { page } = browser;
    await upload('wrong.csv', `externalId;partnerType;signalDate;amountCents;houseNumber\nx;water;${day(-1)};100;1\n`);
    const alert = page.locator('.notice-error');
    await alert.waitFor();
    expect(await alert.textContent()).toContain("verplichte kolom 'postcode' ontbreekt");
    await checkAccessible('upload with error');
  });

  it('uploads without JavaScript too (the plain multipart form, streamed)', async () => {
    const noScript = await launchBrowser({ javaScriptEnabled: false });
    try {
      const { page } = noScript;
      await page.goto(`${server.url}/web/sign-in`);
      await page.getByLabel('API-sleutel').fill(integrator.key);
      await page.getByRole('button', { name: 'Aanmelden' }).click();
      await page.waitForURL(`${server.url}/web/upload`);
      const csv = `externalId;partnerType;signalDate;amountCents;postcode;houseNumber\nns-1;water;${day(-1)};1200;2261AB;9\n`;
      await page.getByLabel('CSV-bestand').setInputFiles({ name: 'zonder-js.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.getByRole('button', { name: 'Uploaden en controleren' }).click();
      await page.waitForURL(/\/web\/upload\/batches\//);
      expect(await page.getByRole('status').first().textContent()).toContain('1 nieuwe signalen opgeslagen');
      expect(noScript.problems).toEqual([]);
    } finally {
      await noScript.close();
    }
  });

  it('keeps other roles out of the upload, and integrators out of the queue', async () => {
    const { page } = browser;
    const response = await page.goto(`${server.url}/web/queue`);
    expect(response!.status()).toBe(403);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Geen toegang');
  });

  it('reads multipart bodies split at every possible place', async () => {
    const boundary = '----vroegseinBoundary7MA4YWxkTrZu0gW';
    const file = 'a;b\r\n1;2\r\n--not-the-boundary\r\n';
    const body = Buffer.from(
      [`--${boundary}`, 'Content-Disposition: form-data; name="_csrf"', '', 'token-123', `--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="f.csv"', 'Content-Type: text/csv', '', file, `--${boundary}--`, ''].join('\r\n'),
    );
    for (const size of [1, 2, 3, 7, 16, 41, body.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
      const seen: Record<string, string> = {};
      for await (const part of readParts(Readable.from(chunks), boundary)) {
        seen[part.name] = await readField(part);
        if (part.name === 'file') expect(part.filename).toBe('f.csv');
      }
      expect(seen).toEqual({ _csrf: 'token-123', file });
    }
  });
});
