/**
 * The command line a command forwards to its guests: a nested command (`trace matrix`)
 * must keep its parent's name, or the guest runs an unknown command.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commandArgs } from '../../src/cli/argv.js';

function seen(argv: string[]): string[][] {
  const got: string[][] = [];
  const program = new Command().exitOverride();
  program
    .command('explain')
    .option('--verify')
    .action((_o, cmd: Command) => {
      got.push(commandArgs(cmd));
    });
  const trace = program.command('trace');
  trace
    .command('matrix')
    .option('--profile <p>')
    .action((_o, cmd: Command) => {
      got.push(commandArgs(cmd));
    });
  program.parse(argv, { from: 'user' });
  return got;
}

describe('commandArgs', () => {
  it('a top-level command: from its name on', () => {
    expect(seen(['explain', '--verify'])).toEqual([['explain', '--verify']]);
  });

  it('a nested command keeps its parent', () => {
    expect(seen(['trace', 'matrix', '--profile', 'linux-6.6'])).toEqual([
      ['trace', 'matrix', '--profile', 'linux-6.6'],
    ]);
  });
});
