#!/usr/bin/env node
/**
 * The mremap-lab command line. Usage errors (unknown command or option, bad values) exit
 * with 2 after the usage text; failures found by a command exit with 1.
 */
import { CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from './program.js';

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = exitCodeOf(e);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`mremap-lab: ${msg}\n`);
    process.exitCode = 1;
  }
}

void main();
