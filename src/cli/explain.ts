/**
 * `mremap-lab explain`: show the model's decision path and page-table move plan for one
 * mremap() call. Registered by src/cli/main.ts via registerExplain(program).
 */
import type { Command } from 'commander';
import { FlagSyntaxError, parseMremapFlags } from '../space/flags.js';
import {
  LayoutSyntaxError,
  explainRemap,
  explainToJson,
  formatExplain,
  parseLayout,
  type LayoutEntry,
} from '../model/explain.js';
import { DEFAULT_PROFILE, PROFILES } from '../model/profiles.js';
import { collect, TRAIT_HELP, traitOverridesOrExit } from './validate.js';
import { formatVerify, verifyExitCode } from './explain-verify.js';
import { addKernelOption, runOnKernels } from './kernel-option.js';
import { verifyPlan, VerifyInputError, type VerifyResult } from '../scenario/verify-plan.js';

interface ExplainOpts {
  old?: string;
  new?: string;
  len?: string;
  newLen?: string;
  flags: string;
  profile: string;
  layout?: string;
  json?: boolean;
  trait: string[];
  verify?: boolean;
  kernel?: string[];
}

function parseAddr(cmd: Command, what: string, text: string | undefined): bigint {
  if (text === undefined) {
    cmd.error(`explain: --${what} is required (e.g. --${what} 0x1fff000)`, { exitCode: 2 });
  }
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    cmd.error(`explain: --${what} '${text}' is not a number; give hex (0x1fff000) or decimal`, {
      exitCode: 2,
    });
  }
  return BigInt(text);
}

function parseFlags(cmd: Command, text: string): bigint {
  try {
    return parseMremapFlags(text);
  } catch (e) {
    if (!(e instanceof FlagSyntaxError)) throw e;
    return cmd.error(`explain: --flags: ${e.message}`, { exitCode: 2 });
  }
}

export function registerExplain(program: Command): void {
  const cmd = program
    .command('explain')
    .description("show the model's mremap() decision path and move_page_tables() plan")
    .option('--old <addr>', 'source address (old_address)')
    .option('--new <addr>', 'destination address (new_address)')
    .option('--len <bytes>', 'old_len (and new_len unless --new-len)')
    .option('--new-len <bytes>', 'new_len (default: --len)')
    .option('--flags <flags>', 'MREMAP flags, e.g. MAYMOVE|FIXED or 3', 'MAYMOVE|FIXED')
    .option(
      '--profile <name>',
      `model profile (${Object.keys(PROFILES).join(', ')})`,
      DEFAULT_PROFILE,
    )
    .option(
      '--layout <spec>',
      'VMAs before the call: START-END[:rwx][:faulted|:unfaulted][:thp][:shared],… (default: [old, old+len) rw faulted)',
    )
    .option('--trait <name=value>', TRAIT_HELP, collect, [])
    .option('--json', 'print JSON')
    .option(
      '--verify',
      'make the call for real (rebuilt in an arena, traced) and compare the plans (docs/trace.md)',
    )
    .action(async (opts: ExplainOpts, cmd: Command) => {
      if (opts.kernel !== undefined) {
        if (opts.verify !== true)
          cmd.error('explain: --kernel needs --verify (the model alone runs anywhere)', {
            exitCode: 2,
          });
        return runOnKernels(cmd);
      }
      const old = parseAddr(cmd, 'old', opts.old);
      const nw = parseAddr(cmd, 'new', opts.new);
      const len = parseAddr(cmd, 'len', opts.len);
      const newLen = opts.newLen === undefined ? len : parseAddr(cmd, 'new-len', opts.newLen);
      const flags = parseFlags(cmd, opts.flags);
      const traits = traitOverridesOrExit('explain', cmd, opts.trait);
      if (PROFILES[opts.profile] === undefined) {
        cmd.error(
          `explain: unknown --profile '${opts.profile}'; choose one of ${Object.keys(PROFILES).join(', ')}`,
          { exitCode: 2 },
        );
      }
      let layout: LayoutEntry[] | undefined;
      try {
        layout = opts.layout === undefined ? undefined : parseLayout(opts.layout);
        const x = explainRemap({
          profile: opts.profile,
          old,
          new: nw,
          len,
          newLen,
          flags,
          layout,
          traits,
        });
        if (opts.verify === true) {
          const v = verifyPlan(x);
          process.stdout.write(
            opts.json === true
              ? `${JSON.stringify({ explain: explainToJson(x), verify: verifyToJson(v) }, null, 2)}\n`
              : `${formatExplain(x)}\n${formatVerify(x, v)}\n`,
          );
          process.exitCode = verifyExitCode(v);
          return;
        }
        process.stdout.write(
          opts.json === true
            ? `${JSON.stringify(explainToJson(x), null, 2)}\n`
            : `${formatExplain(x)}\n`,
        );
      } catch (e) {
        if (e instanceof LayoutSyntaxError && e.defaultLayout)
          cmd.error(
            `explain: the default layout [--old, --old + --len) = [0x${old.toString(16)}, 0x${(old + len).toString(16)}) cannot be mapped (${e.code ?? e.message}); choose another --old or describe the VMAs with --layout`,
            { exitCode: 2 },
          );
        if (e instanceof LayoutSyntaxError)
          cmd.error(`explain: --layout: ${e.message}`, { exitCode: 2 });
        if (e instanceof VerifyInputError)
          cmd.error(`explain --verify: ${e.message}`, { exitCode: 2 });
        throw e;
      }
    });
  addKernelOption(cmd);
}

function verifyToJson(v: VerifyResult): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, val: unknown) =>
      typeof val === 'bigint' ? `0x${val.toString(16)}` : val,
    ),
  ) as unknown;
}
