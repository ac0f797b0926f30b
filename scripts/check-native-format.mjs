#!/usr/bin/env node
// npm run lint's check of native/ against .clang-format: fails on unformatted code (fix with
// npm run format:native). Skips, saying why, only where clang-format is not installed.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const files = readdirSync(path.join(root, 'native'))
  .filter((f) => /\.(cc|h)$/.test(f))
  .map((f) => path.join('native', f));
const fix = process.argv.includes('--fix');
const args = fix ? ['-i', ...files] : ['--dry-run', '--Werror', ...files];
const r = spawnSync('clang-format', args, { cwd: root, stdio: 'inherit' });
if (r.error?.code === 'ENOENT') {
  const msg = 'clang-format is not installed (apt-get install clang-format)';
  if (fix) {
    console.error(`format:native: ${msg}`);
    process.exit(1);
  }
  console.log(`lint: native/ format check skipped: ${msg}`);
  process.exit(0);
}
if (r.error) throw r.error;
if (r.status !== 0 && !fix)
  console.error('lint: native/ is not clang-formatted: npm run format:native');
process.exit(r.status ?? 1);
