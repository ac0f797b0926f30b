/** Linux x86-64 errno numbers used by mm syscalls (include/uapi/asm-generic/errno-base.h, errno.h). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
  EHWPOISON: 133,
} as const;

export type ErrnoCode = keyof typeof Errno | `E${number}`;

const byNumber = new Map<number, ErrnoCode>(
  Object.entries(Errno).map(([k, v]) => [v, k as ErrnoCode]),
);

export function errnoName(errno: number): ErrnoCode {
  return byNumber.get(errno) ?? `E${errno}`;
}

export function errnoNumber(code: string): number | undefined {
  return (Errno as Record<string, number>)[code];
}
