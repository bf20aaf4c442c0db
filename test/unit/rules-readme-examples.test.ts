import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRuleSet } from '../../src/rules/validate.js';

const README = readFileSync(path.join(import.meta.dirname, '..', '..', 'rules', 'README.md'), 'utf8');
const DEFAULT = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'rules', 'default.json'), 'utf8'));

describe('the worked examples in rules/README.md', () => {
  const section = README.slice(README.indexOf('## Worked examples'), README.indexOf('## From idea to production'));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);

  it('has three examples', () => {
    expect(blocks.length).toBe(3);
  });

  it('each validates without errors when added to the default rule set', () => {
    for (const block of blocks) {
      const rules = Array.isArray(block) ? block : [block];
      const result = validateRuleSet({ ...DEFAULT, rules: [...DEFAULT.rules, ...rules] });
      expect(result.errors).toEqual([]);
    }
  });
});
