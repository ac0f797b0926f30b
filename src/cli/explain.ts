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
  program
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
    .action((opts: ExplainOpts, cmd: Command) => {
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
        throw e;
      }
    });
}
