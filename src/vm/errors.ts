/** Problems the user fixes (a missing tool, a bad kernel name): the CLI prints one line, exit 2. */
export class VmInputError extends Error {}

const INSTALL = 'apt-get install qemu-system-x86 busybox-static';

/** Each host tool the vm layer runs, and the Debian package that ships it. */
export const TOOL_PACKAGES: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  busybox: 'busybox-static',
  depmod: 'kmod',
  'dpkg-deb': 'dpkg',
  'apt-get': 'apt',
  'apt-cache': 'apt',
  xz: 'xz-utils',
  zstd: 'zstd',
};

export function missingToolMessage(tool: string): string {
  const pkg = TOOL_PACKAGES[tool] ?? tool;
  const extra =
    pkg === 'qemu-system-x86' || pkg === 'busybox-static' ? ` (all at once: ${INSTALL})` : '';
  return `${tool} not found: install the Debian package ${pkg}${extra}`;
}
