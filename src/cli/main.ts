#!/usr/bin/env node
/**
 * The mremap-lab command line. Usage errors (unknown command or option, bad values) exit
 * with 2 after the usage text; failures found by a command exit with 1.
 */
import { CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from './program.js';

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
      process.exitCode = exitCodeOf(e);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`mremap-lab: ${msg}\n`);
    process.exitCode = 1;
  }
}

void main();
