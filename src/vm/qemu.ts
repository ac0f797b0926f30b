/**
 * Boot a cached kernel under QEMU, run one command in it, and always reap QEMU: on exit,
 * on timeout, on a panic and on Ctrl-C. Console (ttyS0), stdout (ttyS1) and stderr
 * (ttyS2) arrive on three Unix sockets QEMU connects to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { CachedKernel } from './cache.js';
import { buildJobArchive, EXIT_MARKER, INIT_MARKER, type Job } from './initramfs.js';
import { findTool } from './tools.js';

export type Accel = 'kvm' | 'tcg';

export interface VmOptions {
  kernel: CachedKernel;
  /** The command, or a function of the accelerator (TCG needs longer inner timeouts). */
  job: Job | ((accel: Accel) => Job);
  /** QEMU -m syntax: 4G, 2048M. */
  mem: string;
  cpus: number;
  timeoutMs: number;
  accel: Accel | 'auto';
  stdout: Writable;
  stderr: Writable;
  /** Every console line as it arrives (--console). */
  onConsole?: (line: string) => void;
  /** Keep the run directory (job archive, console.log) and say where. */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface VmResult {
  /** exit: the inner command ran and its code is exitCode; the others are guest failures. */
  status: 'exit' | 'timeout' | 'no-result' | 'interrupted';
  exitCode: number | null;
  accel: Accel;
  /** The guest's uname -r as its /init printed it, when it got that far. */
  release: string | null;
  consoleTail: string[];
  durationMs: number;
  runDir: string;
}

export const CONSOLE_TAIL = 40;

/** KVM is worth trying when /dev/kvm can be opened read-write. */
export function kvmUsable(): boolean {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

// What QEMU prints when KVM exists but cannot run this guest (nested virtualisation
// without an MSR, an emulation failure): fall back to TCG rather than hang.
const KVM_BROKEN =
  /KVM internal error|failed to set MSR|kvm_buf_set_msrs|failed to initialize kvm|Could not access KVM/i;

export function qemuArgs(
  k: CachedKernel,
  initrd: string,
  o: { mem: string; cpus: number; accel: Accel; out: string; sockets: string[] },
): string[] {
  // TCG with one thread for all vCPUs: with thread=multi, a guest's int3-based code patching
  // (text_poke_bp for static keys, tracepoints, kprobes) now and then meets a vCPU still
  // running the old translation, and the guest dies with "Oops: int3" (seen at boot in
  // cpu_latency_qos_init → sched_clock_cpu on 6.12, and in __schedule under set_event_pid).
  // A panic is a lost run; the cost of one thread was within the noise for a boot + probe.
  const accel = o.accel === 'kvm' ? ['-accel', 'kvm'] : ['-accel', 'tcg,thread=single'];
  const serial = o.sockets.flatMap((s, i) => [
    '-chardev',
    `socket,id=s${i},path=${s}`,
    '-serial',
    `chardev:s${i}`,
  ]);
  return [
    ...accel,
    // la57=off: 4-level paging, as on the hardware most kernels run on.
    '-cpu',
    'max,la57=off',
    '-smp',
    String(o.cpus),
    '-m',
    o.mem,
    '-nographic',
    '-monitor',
    'none',
    '-no-reboot',
    '-vga',
    'none',
    '-nic',
    'none',
    ...serial,
    '-fsdev',
    'local,id=root,path=/,readonly=on,security_model=none,multidevs=remap',
    '-device',
    'virtio-9p-pci,fsdev=root,mount_tag=root',
    '-fsdev',
    `local,id=out,path=${o.out},security_model=none,multidevs=remap`,
    '-device',
    'virtio-9p-pci,fsdev=out,mount_tag=out',
    '-kernel',
    k.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 panic=-1 8250.nr_uarts=4 rdinit=/init`,
  ];
}

/** A Unix socket server that takes QEMU's connection for one serial port. */
function serialSocket(
  file: string,
  onData: (b: Buffer) => void,
): { server: net.Server; closed: Promise<void> } {
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const server = net.createServer((c) => {
    c.on('data', onData);
    c.on('close', () => done());
    c.on('error', () => done());
  });
  server.listen(file);
  return { server, closed };
}

let live: ChildProcess | null = null;
// Reap QEMU however this process ends; SIGKILL because a wedged guest ignores nothing else.
process.on('exit', () => live?.kill('SIGKILL'));

/** The guest learns its accelerator from the environment (probe reports it as accel). */
export const ACCEL_ENV = 'MREMAP_LAB_ACCEL';

function once(
  o: VmOptions,
  accel: Accel,
  runDir: string,
): Promise<VmResult & { kvmBroken?: string }> {
  const t0 = performance.now();
  const initrd = path.join(runDir, 'initrd.cpio.gz');
  const base = typeof o.job === 'function' ? o.job(accel) : o.job;
  const job = { ...base, env: { ...base.env, [ACCEL_ENV]: accel } };
  fs.writeFileSync(
    initrd,
    Buffer.concat([fs.readFileSync(o.kernel.initramfs), buildJobArchive(job)]),
  );
  const consoleLog = fs.createWriteStream(path.join(runDir, 'console.log'));
  const lines: string[] = [];
  let partial = '';
  let exitCode: number | null = null;
  let release: string | null = null;
  const onConsole = (b: Buffer) => {
    consoleLog.write(b);
    const parts = (partial + b.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.replace(/\r$/, '');
      lines.push(line);
      if (lines.length > CONSOLE_TAIL) lines.shift();
      o.onConsole?.(line);
      if (line.startsWith(EXIT_MARKER)) exitCode = Number(line.slice(EXIT_MARKER.length));
      else if (line.startsWith(INIT_MARKER)) release = line.slice(INIT_MARKER.length).trim();
    }
  };
  const sockets = ['console', 'stdout', 'stderr'].map((n) => path.join(runDir, `${n}.sock`));
  const ports = [
    serialSocket(sockets[0]!, onConsole),
    serialSocket(sockets[1]!, (b) => o.stdout.write(b)),
    serialSocket(sockets[2]!, (b) => o.stderr.write(b)),
  ];
  const args = qemuArgs(o.kernel, initrd, {
    mem: o.mem,
    cpus: o.cpus,
    accel,
    out: job.out,
    sockets,
  });
  fs.writeFileSync(path.join(runDir, 'qemu.args'), `${args.join('\n')}\n`);
  const child = spawn(findTool('qemu-system-x86_64'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live = child;
  let qemuErr = '';
  let kvmBroken: string | undefined;
  let timedOut = false;
  let interrupted = false;
  const onErr = (b: Buffer) => {
    qemuErr += b.toString();
    if (accel === 'kvm' && !kvmBroken && KVM_BROKEN.test(qemuErr)) {
      kvmBroken =
        qemuErr
          .split('\n')
          .find((l) => KVM_BROKEN.test(l))
          ?.trim() ?? 'KVM failed';
      child.kill('SIGKILL');
    }
  };
  child.stderr.on('data', onErr);
  child.stdout.on('data', onErr);
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs);
  const onSignal = () => {
    interrupted = true;
    child.kill('SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise((resolve) => {
    child.on('close', () => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      live = null;
      // QEMU has closed its ends: flush what the sockets still hold, then report.
      void Promise.race([
        Promise.all(ports.map((p) => p.closed)),
        new Promise((r) => setTimeout(r, 500)),
      ]).then(() => {
        for (const p of ports) p.server.close();
        if (partial) onConsole(Buffer.from('\n'));
        for (const l of qemuErr.split('\n').filter(Boolean)) {
          lines.push(`qemu: ${l}`);
          if (lines.length > CONSOLE_TAIL) lines.shift();
        }
        consoleLog.end();
        resolve({
          status: interrupted
            ? 'interrupted'
            : timedOut
              ? 'timeout'
              : exitCode !== null
                ? 'exit'
                : 'no-result',
          exitCode: timedOut || interrupted ? null : exitCode,
          accel,
          release,
          consoleTail: lines,
          durationMs: performance.now() - t0,
          runDir,
          ...(kvmBroken ? { kvmBroken } : {}),
        });
      });
    });
  });
}

export async function runVm(o: VmOptions): Promise<VmResult> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mremap-lab-vm-'));
  try {
    const first: Accel = o.accel === 'auto' ? (kvmUsable() ? 'kvm' : 'tcg') : o.accel;
    const r = await once(o, first, runDir);
    if (r.kvmBroken && o.accel === 'auto' && r.status !== 'interrupted') {
      o.log?.(`KVM is present but cannot run this guest (${r.kvmBroken}); using TCG`);
      const { kvmBroken: _, ...again } = await once(o, 'tcg', runDir);
      return again;
    }
    const { kvmBroken: _, ...res } = r;
    return res;
  } finally {
    if (o.keep) o.log?.(`run directory kept: ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  }
}
