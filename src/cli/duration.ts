import { InvalidArgumentError } from 'commander';

/** "60s", "2m", "500ms", "90" (seconds). */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m)
    throw new InvalidArgumentError(`expected a duration such as 60s, 2m or 500ms, got "${v}"`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']!;
  const ms = n * unit;
  if (ms <= 0) throw new InvalidArgumentError('the duration must be positive');
  return ms;
}
