#!/usr/bin/env node
/**
 * The mremap-lab command line. Usage errors (unknown command or option, bad values) exit
 * with 2 after the usage text; failures found by a command exit with 1.
 */
import { Command, CommanderError } from 'commander';
import { registerExplain } from './explain.js';
import { registerBench, registerCompare, registerReport } from './bench.js';
import { registerFuzz } from './fuzz.js';
import { registerMaps } from './maps.js';
import { registerPagemap } from './pagemap.js';
import { registerProbe } from './probe.js';
import { registerValidate } from './validate.js';
import { registerVm } from './vm.js';
import { registerKernel } from './kernel.js';
import { registerTrace } from './trace.js';

const USAGE_CODES = new Set([
  'commander.unknownCommand',
  'commander.unknownOption',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.conflictingOption',
]);

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mremap-lab')
    .description(
      'Validate and benchmark Linux mremap() on the real kernel against a reference model.',
    )
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerProbe(program);
  registerValidate(program);
  registerFuzz(program);
  registerExplain(program);
  registerMaps(program);
  registerPagemap(program);
  registerBench(program);
  registerCompare(program);
  registerReport(program);
  registerVm(program);
  registerKernel(program);
  registerTrace(program);
  return program;
}

/**
 * A reader that goes away (`mremap-lab validate | head`) is not an error of ours: stop
 * writing, as `cat` does, and keep the exit status the command had reached. Results written
 * with `-o FILE` are already on disk.
 */
function quietOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

async function main(): Promise<void> {
  quietOnClosedStdout();
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // No command at all is commander's 'commander.help' with exit code 1: a usage error too.
      const noCommand = e.code === 'commander.help' && e.exitCode !== 0;
      process.exitCode = USAGE_CODES.has(e.code) || noCommand ? 2 : e.exitCode;
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`mremap-lab: ${msg}\n`);
    process.exitCode = 1;
  }
}

void main();
