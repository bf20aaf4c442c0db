import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rulesCommand } from '../../src/cli/rules.js';

const FEED = path.join(import.meta.dirname, '..', 'fixtures', 'feed-small.csv');
const DEFAULT = path.join(import.meta.dirname, '..', '..', 'rules', 'default.json');
let dir: string;

async function run(args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await rulesCommand(args, (line) => lines.push(line));
  return { code, output: lines.join('\n') };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vroegsein-rules-'));
});

describe('vroegsein rules (offline)', () => {
  it('validates the default rule set and reports errors with pointers for a broken one', async () => {
    expect((await run(['validate', DEFAULT])).code).toBe(0);
    const broken = path.join(dir, 'broken.json');
    await writeFile(broken, JSON.stringify({ name: 'b', description: 'b', rules: [{ name: 'x', conditions: { all: [{ fact: 'crisis', operator: 'isTrue', value: true }] }, event: { type: 'score', params: { points: 1, reason: 'r' } } }] }));
    const result = await run(['validate', broken]);
    expect(result.code).toBe(1);
    expect(result.output).toContain('/rules/0/conditions/all/0/operator');
    const notJson = path.join(dir, 'not.json');
    await writeFile(notJson, '{ nope');
    expect((await run(['validate', notJson])).code).toBe(1);
    expect((await run(['validate', path.join(dir, 'missing.json')])).output).toContain('not found');
    expect((await run(['validate'])).code).toBe(2);
  });

  it('simulates a candidate against the default set on a feed, as a table and as JSON', async () => {
    const defaultSet = JSON.parse(await readFile(DEFAULT, 'utf8'));
    const candidate = {
      ...defaultSet,
      name: 'candidate',
      rules: [...defaultSet.rules, { name: 'Zorgverzekering telt zwaar', conditions: { all: [{ fact: 'healthInsuranceCount', operator: 'greaterThanInclusive', value: 1 }] }, event: { type: 'score', params: { points: 40, reason: 'zorg' } } }],
    };
    const file = path.join(dir, 'candidate.json');
    await writeFile(file, JSON.stringify(candidate));
    const json = await run(['simulate', file, '--signals', FEED, '--json', '--today', '2026-11-01']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.output);
    expect(result).toMatchObject({ rows: 5, rejectedRows: 1, households: 3 });
    expect(result.changes.priorityUp).toBe(1);
    expect(result.biggestMovers[0]).toMatchObject({ householdId: 'line 5', rulesAdded: ['Zorgverzekering telt zwaar'] });
    expect(result.biggestMovers[0].priorityAfter - result.biggestMovers[0].priorityBefore).toBe(40);
    const table = await run(['simulate', file, '--signals', FEED, '--today', '2026-11-01']);
    expect(table.output).toMatch(/priority up\s+1/);
    expect(table.output).toContain('Zorgverzekering telt zwaar');
  });

  it('runs regression cases: the shipped cases pass, a wrong expectation fails', async () => {
    const cases = path.join(import.meta.dirname, '..', '..', 'rules', 'default.cases.json');
    const ok = await run(['test', DEFAULT, '--cases', cases]);
    expect(ok.code).toBe(0);
    expect(ok.output).toMatch(/\d+ passed, 0 failed/);
    const wrong = path.join(dir, 'wrong.cases.json');
    await writeFile(wrong, JSON.stringify([{ name: 'crisis is never suppressed?', facts: { crisis: true }, expect: { suppressed: 'deceased' } }]));
    const failing = await run(['test', DEFAULT, '--cases', wrong]);
    expect(failing.code).toBe(1);
    expect(failing.output).toContain('FAIL  crisis is never suppressed?');
  });
});
