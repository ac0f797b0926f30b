/**
 * Module resolution against modules.dep/modules.builtin lines cut from Debian's
 * linux-image-6.1.0-57-amd64 and linux-image-6.12.117+deb12-amd64 (after depmod -b).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadOrder,
  MissingModuleError,
  moduleName,
  NEEDED_FEATURES,
  parseModulesDep,
} from '../../src/vm/modules.js';

const fixture = (f: string) =>
  fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/vm', f), 'utf8');
const index = (v: string) =>
  parseModulesDep(fixture(`modules-${v}.dep`), fixture(`modules-${v}.builtin`));

describe('initramfs modules', () => {
  it('6.1: virtio PCI is modular, so it and virtio come in, each after its dependencies', () => {
    expect(loadOrder(index('6.1'), NEEDED_FEATURES)).toEqual([
      'kernel/net/9p/9pnet.ko',
      'kernel/fs/netfs/netfs.ko',
      'kernel/fs/fscache/fscache.ko',
      'kernel/fs/9p/9p.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/net/9p/9pnet_virtio.ko',
      'kernel/drivers/virtio/virtio_pci_legacy_dev.ko',
      'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
      'kernel/drivers/virtio/virtio_pci.ko',
    ]);
  });

  it('6.12: virtio is built in (modules.builtin) and modules are .ko.xz', () => {
    expect(loadOrder(index('6.12'), NEEDED_FEATURES)).toEqual([
      'kernel/fs/netfs/netfs.ko.xz',
      'kernel/net/9p/9pnet.ko.xz',
      'kernel/fs/9p/9p.ko.xz',
      'kernel/net/9p/9pnet_virtio.ko.xz',
    ]);
  });

  it('a feature neither built in nor listed is an error naming the module', () => {
    const i = parseModulesDep('kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko\n', '');
    expect(() => loadOrder(i, ['9p'])).toThrow(MissingModuleError);
    expect(() => loadOrder(i, ['9p'])).toThrow(
      'module 9pnet (needed for 9p) is neither built in nor in modules.dep',
    );
  });

  it('names are normalised as modprobe does ("-" and "_" alike, any compression)', () => {
    expect(moduleName('kernel/drivers/virtio/virtio-pci.ko.zst')).toBe('virtio_pci');
    expect(moduleName('kernel/fs/9p/9p.ko')).toBe('9p');
  });
});
