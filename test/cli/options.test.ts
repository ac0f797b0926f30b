/**
 * Option parsing and usage errors, in process: the command tree main.ts runs
 * (src/cli/program.ts), parsed with commander's output captured. Every case here fails
 * before any work, so no kernel is touched; the spawned binary keeps one smoke test per
 * command (cli.test.ts, exit-codes.test.ts, fuzz-cli.test.ts).
 */
import { CommanderError } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram, exitCodeOf } from '../../src/cli/program.js';

const TOP_USAGE = 'Usage: mremap-lab [options] [command]';

/** Runs the program on `args` as main.ts would; the exit code and everything printed. */
async function parse(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const program = buildProgram({
    writeOut: (s) => (out += s),
    writeErr: (s) => (err += s),
  });
  // Actions report input errors on process.stderr with process.exitCode (bench's inputError).
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: Number(process.exitCode ?? 0), out, err };
  } catch (e) {
    if (e instanceof CommanderError) return { code: exitCodeOf(e), out, err };
    throw e;
  } finally {
    stderr.mockRestore();
    process.exitCode = saved;
  }
}

describe('usage errors exit 2 with the usage of the command at fault', () => {
  it('no command', async () => {
    const r = await parse();
    expect(r.code).toBe(2);
    expect(r.err).toContain(TOP_USAGE);
  });

  it('an unknown command', async () => {
    const r = await parse('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'frobnicate'");
    expect(r.err).toContain('Usage: mremap-lab');
  });

  it('an unknown option', async () => {
    const r = await parse('probe', '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--bogus'");
  });

  it('a bad bench option, with the bench usage', async () => {
    const r = await parse('bench', '--samples', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toContain("option '--samples <n>' argument 'x' is invalid");
    expect(r.err).toContain('Usage: mremap-lab bench [options]');
    expect(r.err).not.toContain(TOP_USAGE);
  });

  it("a command's own error shows that command's usage, not the top-level one", async () => {
    for (const [args, usage] of [
      [['validate', '--profile', 'nope'], 'Usage: mremap-lab validate'],
      [['fuzz', '--profile', 'nope'], 'Usage: mremap-lab fuzz'],
      [['explain', '--old', 'zz'], 'Usage: mremap-lab explain'],
    ] as const) {
      const r = await parse(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(usage);
      expect(r.err, args.join(' ')).not.toContain(TOP_USAGE);
    }
  });

  it('fuzz refuses bad options', async () => {
    for (const [bad, says] of [
      [['--runs', '0'], '--runs'],
      [['--time', 'soon'], 'soon'],
      [['--profile', 'linux-9.9'], "unknown profile 'linux-9.9'"],
      [['--runs', '2', '--time', '1s'], 'give --runs or --time, not both'],
      [['--weights', 'bogus=1'], 'bogus'],
      [['--seed', '-3'], '--seed'],
    ] as const) {
      const r = await parse('fuzz', ...bad);
      expect(r.code, bad.join(' ')).toBe(2);
      expect(r.err, bad.join(' ')).toContain(says);
      expect(r.err, bad.join(' ')).toContain('Usage: mremap-lab fuzz');
    }
  });
});

describe('help', () => {
  it('--help on a command exits 0 and describes it', async () => {
    const r = await parse('probe', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--json');
  });

  it('fuzz --help names its options and the --shrink-time default in the unit a number means', async () => {
    const r = await parse('fuzz', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--ops-per-run');
    expect(r.out.replace(/\s+/g, ' ')).toContain('(default: 60s)');
    expect(r.out).not.toContain('60000');
  });

  it('--version prints the version from package.json', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await parse('--version');
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(version);
  });
});
