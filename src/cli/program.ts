/**
 * The mremap-lab command tree, built without running it: main.ts parses process.argv with
 * it, and tests parse argument lists in process (usage errors throw a CommanderError).
 */
import { Command, CommanderError, type OutputConfiguration } from 'commander';
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
import { VERSION } from '../version.js';

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

/**
 * Every command, with exitOverride (errors throw instead of exiting). `output` replaces
 * commander's stdout/stderr writers; it is set before the commands are added, so they
 * inherit it.
 */
export function buildProgram(output?: OutputConfiguration): Command {
  const program = new Command();
  if (output) program.configureOutput(output);
  program
    .name('mremap-lab')
    .description(
      'Validate and benchmark Linux mremap() on the real kernel against a reference model.',
    )
    .version(VERSION)
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

/** The exit code of a parse that threw: 2 for usage errors, else commander's own. */
export function exitCodeOf(e: CommanderError): number {
  // No command at all is commander's 'commander.help' with exit code 1: a usage error too.
  const noCommand = e.code === 'commander.help' && e.exitCode !== 0;
  return USAGE_CODES.has(e.code) || noCommand ? 2 : e.exitCode;
}
