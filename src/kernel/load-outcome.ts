/**
 * The numbers native/load.cc reports for a load, named: signal numbers (x86-64) and the
 * si_codes of include/uapi/asm-generic/siginfo.h that arch/x86/mm/fault.c raises.
 */
import type { FaultCode, LoadOutcome } from '../space/address-space.js';

const SIGBUS = 7;
const SIGSEGV = 11;
const SEGV_CODES: Record<number, FaultCode> = {
  1: 'SEGV_MAPERR',
  2: 'SEGV_ACCERR',
  4: 'SEGV_PKUERR',
};
const BUS_CODES: Record<number, FaultCode> = { 2: 'BUS_ADRERR', 3: 'BUS_OBJERR' };

export function loadOutcome(r: { signo: number; code: number; value: bigint }): LoadOutcome {
  if (r.signo === 0) return { signal: null, value: r.value };
  if (r.signo !== SIGSEGV && r.signo !== SIGBUS)
    throw new Error(`load: unexpected signal ${r.signo} from the load child`);
  const codes = r.signo === SIGSEGV ? SEGV_CODES : BUS_CODES;
  return {
    signal: r.signo === SIGSEGV ? 'SIGSEGV' : 'SIGBUS',
    code: codes[r.code] ?? `${r.code}`,
  };
}
