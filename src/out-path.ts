/**
 * Output paths, checked before the work they would receive: a run that ends in "cannot
 * write" has lost its results. Directories are created one level at a time because Node's
 * recursive mkdir never returns under /proc (each level answers ENOENT, and it retries).
 */
import fs from 'node:fs';
import path from 'node:path';

/** mkdir -p that fails (ENOTDIR, ENOENT, EACCES …) instead of looping. */
export function makeDirs(dir: string): void {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let d = abs; ; d = path.dirname(d)) {
    const st = fs.statSync(d, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: ${d} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) fs.mkdirSync(d);
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Why a file cannot be created (or overwritten) at `file`; null when it can. Leaves no trace
 * but the parent directories when `makeParent` asks for them.
 */
export function outFileProblem(file: string, o: { makeParent?: boolean } = {}): string | null {
  try {
    if (o.makeParent) makeDirs(path.dirname(path.resolve(file)));
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) return `${file} is a directory`;
    if (st) {
      fs.closeSync(fs.openSync(file, 'r+'));
      return null;
    }
    const dir = path.dirname(path.resolve(file));
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory())
      return `directory ${dir} does not exist`;
    fs.closeSync(fs.openSync(file, 'wx'));
    fs.unlinkSync(file);
    return null;
  } catch (e) {
    return why(e);
  }
}

/** Creates `dir` if needed and checks a file can be created in it; why not, or null. */
export function outDirProblem(dir: string): string | null {
  try {
    makeDirs(dir);
    const probe = path.join(dir, `.mremap-lab-write-test-${process.pid}`);
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.unlinkSync(probe);
    return null;
  } catch (e) {
    return why(e);
  }
}
