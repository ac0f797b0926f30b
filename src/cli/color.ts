/**
 * Colour for terminal output: on only when the stream is a terminal and NO_COLOR
 * (https://no-color.org) is unset or empty. picocolors alone also colours pipes under
 * CI=…, and cli-table3 colours borders and headers whatever the stream is, so both take
 * their setting from here.
 */
import pc from 'picocolors';
type Colors = ReturnType<typeof pc.createColors>;

export type { Colors };

export function wantColor(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  if ((env['NO_COLOR'] ?? '') !== '') return false;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

/** The palette for text written to stdout. */
export const colors: Colors = pc.createColors(wantColor(process.stdout));

/** cli-table3 `style` for a table written to stdout: cyan headers only on a colour terminal. */
export function tableStyle(): { head: string[]; border: string[]; compact: true } {
  return colors.isColorSupported
    ? { head: ['cyan'], border: ['grey'], compact: true }
    : { head: [], border: [], compact: true };
}
