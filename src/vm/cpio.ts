/**
 * A newc ("070701") cpio archive, the format the kernel unpacks as an initramfs
 * (init/initramfs.c, Documentation/driver-api/early-userspace/buffer-format.rst).
 */

export interface CpioEntry {
  name: string;
  /** File type and permission bits, e.g. 0o100755 for an executable, 0o40755 for a directory. */
  mode: number;
  data?: Buffer;
}

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

const hex = (n: number) => n.toString(16).padStart(8, '0');
const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

function header(e: CpioEntry, ino: number): Buffer {
  const name = Buffer.from(`${e.name}\0`);
  const size = e.data?.length ?? 0;
  const fields = [ino, e.mode, 0, 0, (e.mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, size, 0, 0, 0, 0];
  const head = Buffer.from(`070701${fields.map(hex).join('')}${hex(name.length)}${hex(0)}`);
  return Buffer.concat([head, name, pad4(head.length + name.length)]);
}

export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    parts.push(header(e, e.name === 'TRAILER!!!' ? 0 : ino++));
    if (e.data) parts.push(e.data, pad4(e.data.length));
  }
  return Buffer.concat(parts);
}
