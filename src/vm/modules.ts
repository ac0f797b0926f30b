/**
 * Which kernel modules a guest needs before it can mount its root over virtio-9p, found in
 * the image's own modules.dep and modules.builtin (what depmod writes and modprobe reads),
 * so a kernel that builds virtio in and one that makes it modular are both handled.
 */

/** What the guest's /init needs: the 9p filesystem, its virtio transport, the PCI bus glue. */
export const NEEDED_FEATURES = ['9p', '9pnet_virtio', 'virtio_pci'] as const;

/** modprobe treats '-' and '_' alike in module names (modname_normalize in kmod). */
export function moduleName(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

export interface ModuleIndex {
  /** name → path relative to lib/modules/<release>, and its direct dependencies by path. */
  modules: Map<string, { path: string; deps: string[] }>;
  builtin: Set<string>;
}

export function parseModulesDep(depText: string, builtinText: string): ModuleIndex {
  const modules = new Map<string, { path: string; deps: string[] }>();
  for (const line of depText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    modules.set(moduleName(path), { path, deps });
  }
  const builtin = new Set(
    builtinText
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map(moduleName),
  );
  return { modules, builtin };
}

export class MissingModuleError extends Error {}

/**
 * The module files to load, each after everything it depends on (the order modprobe
 * would insert them in). Features built into the kernel need nothing.
 */
export function loadOrder(index: ModuleIndex, features: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, via: string) => {
    if (seen.has(name) || index.builtin.has(name)) return;
    const m = index.modules.get(name);
    if (!m)
      throw new MissingModuleError(
        `module ${name} (needed for ${via}) is neither built in nor in modules.dep`,
      );
    seen.add(name);
    for (const d of m.deps) visit(moduleName(d), via);
    order.push(m.path);
  };
  for (const f of features) visit(moduleName(f), f);
  return order;
}
