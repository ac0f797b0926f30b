// Writes docs/scenario.schema.json from the validator's own rules (src/scenario/schema.ts),
// so the published schema cannot drift from what `validate` accepts. Run by `npm run schema`
// (after build:ts); test/scenario/schema-file.test.ts fails when the committed file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchema } from '../dist/scenario/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const file = path.join(root, 'docs/scenario.schema.json');
fs.writeFileSync(file, `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
