/**
 * The guest's initramfs: a static busybox, /init, and the modules 9p needs in load order
 * (cached per kernel); plus a small per-run archive appended to it with the command.
 * The kernel unpacks concatenated archives in order (init/initramfs.c unpack_to_rootfs).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { cpioArchive, S_IFDIR, S_IFREG, type CpioEntry } from './cpio.js';
import { loadOrder, NEEDED_FEATURES, parseModulesDep } from './modules.js';
import { runToolBuffer, staticBusybox } from './tools.js';

/** Printed on the console by /init; the host reads the inner command's exit code from it. */
export const EXIT_MARKER = '@@mremap-lab: exit ';
export const INIT_MARKER = '@@mremap-lab: init';

/*
 * ttyS0 is the console (kernel log and these messages), ttyS1/ttyS2 carry the inner
 * command's stdout/stderr, fed from FIFOs so the command sees pipes rather than a tty.
 * tmpfs goes where the host root (read-only) must be writable, except over the working
 * or output directory, which it would hide.
 */
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "${INIT_MARKER} $(uname -r)"
fail() { echo "@@mremap-lab: $*"; sync; reboot -f; }
while read -r m; do insmod "/modules/$m" || fail "insmod $m failed"; done < /modules.order
. /job/settings
R=/newroot
mkdir -p $R
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 root $R || fail "cannot mount the host root over 9p"
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
for d in /tmp /run /var/tmp /boot; do
  case "$CWD/ $OUT/" in "$d/"*|*" $d/"*) continue ;; esac
  [ -d $R$d ] && mount -t tmpfs tmpfs $R$d
done
mkdir -p "$R$OUT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out "$R$OUT" || fail "cannot mount the output directory over 9p"
[ -f /job/config ] && cp /job/config $R/boot/config-$(uname -r)
J=$R/run/mremap-lab
mkdir -p $J
cp /job/run.sh $J/run.sh
mkfifo $J/out $J/err
stty -F /dev/ttyS1 raw -echo
stty -F /dev/ttyS2 raw -echo
cat $J/out > /dev/ttyS1 &
p1=$!
cat $J/err > /dev/ttyS2 &
p2=$!
chroot $R /bin/sh /run/mremap-lab/run.sh > $J/out 2> $J/err
rc=$?
wait $p1 $p2
sync
umount "$R$OUT"
echo "${EXIT_MARKER}$rc"
reboot -f
`;

function file(name: string, data: Buffer | string, mode = 0o644): CpioEntry {
  return { name, mode: S_IFREG | mode, data: Buffer.from(data) };
}
const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });

function moduleData(full: string): Buffer {
  if (full.endsWith('.ko.xz')) return runToolBuffer('xz', ['-dc', full]);
  if (full.endsWith('.ko.zst')) return runToolBuffer('zstd', ['-dc', full]);
  if (full.endsWith('.ko.gz')) return zlib.gunzipSync(fs.readFileSync(full));
  return fs.readFileSync(full);
}

/**
 * The cached part. modulesDir is lib/modules/<release> with modules.dep (null when the
 * kernel builds everything the guest needs in); config lands at /boot/config-<release>.
 */
export function buildBaseInitramfs(modulesDir: string | null, config: string | null): Buffer {
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'modules', 'job', 'newroot'].map(dir);
  entries.push(file('bin/busybox', fs.readFileSync(staticBusybox()), 0o755));
  entries.push(file('init', INIT, 0o755));
  const order: string[] = [];
  if (modulesDir) {
    const read = (n: string) => fs.readFileSync(path.join(modulesDir, n), 'utf8');
    let builtin = '';
    try {
      builtin = read('modules.builtin');
    } catch {
      // a kernel without built-in modules has no such file
    }
    for (const rel of loadOrder(parseModulesDep(read('modules.dep'), builtin), NEEDED_FEATURES)) {
      const name = path.basename(rel).replace(/\.ko(\.\w+)?$/, '.ko');
      entries.push(file(`modules/${name}`, moduleData(path.join(modulesDir, rel))));
      order.push(name);
    }
  }
  entries.push(file('modules.order', order.map((n) => `${n}\n`).join('')));
  if (config) entries.push(file('job/config', fs.readFileSync(config)));
  return zlib.gzipSync(cpioArchive(entries));
}

/** POSIX shell single-quoting: everything literal, embedded quotes as '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface Job {
  /** Working directory of the inner command (read-only unless it is under out). */
  cwd: string;
  /** The writable share's host path, mounted at the same path in the guest. */
  out: string;
  argv: string[];
  env: Record<string, string>;
}

const KHUGEPAGED_SLEEP = '/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs';

export function buildJobArchive(job: Job): Buffer {
  const settings = `CWD=${shellQuote(job.cwd)}\nOUT=${shellQuote(job.out)}\n`;
  const env = { HOME: '/tmp', PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', ...job.env };
  const script = [
    ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    // khugepaged's background collapse is not modelled, and a slow TCG guest gives its 10 s
    // scan time to collapse a scenario's VMA between two steps: the throwaway guest parks it
    // (MADV_COLLAPSE is synchronous and unaffected; docs/vm.md). Here, not in the cached /init,
    // so a kernel fetched before this line gets it too.
    `K=${KHUGEPAGED_SLEEP}; [ -w $K ] && echo 4294967295 > $K`,
    `cd ${shellQuote(job.cwd)} || exit 125`,
    `exec ${job.argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
  return zlib.gzipSync(
    cpioArchive([file('job/settings', settings), file('job/run.sh', script, 0o755)]),
  );
}
