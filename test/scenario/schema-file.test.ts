/** docs/scenario.schema.json is what the validator enforces, not a stale copy of it. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../src/scenario/schema.js';

describe('docs/scenario.schema.json', () => {
  it('equals scenarioJsonSchema() (regenerate with: npm run schema)', () => {
    const file = path.resolve(import.meta.dirname, '../../docs/scenario.schema.json');
    const committed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    expect(
      committed,
      'docs/scenario.schema.json is stale: run `npm run schema` and commit it',
    ).toEqual(scenarioJsonSchema());
  });
});
