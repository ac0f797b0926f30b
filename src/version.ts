/** The tool's version, read from package.json: the one place it is written. */
import { createRequire } from 'node:module';

// src/ and dist/ are both one level below the package root.
const pkg = createRequire(import.meta.url)('../package.json') as { name: string; version: string };

export const VERSION: string = pkg.version;
/** "mremap-lab 0.1.0", as reports name their tool. */
export const TOOL: string = `${pkg.name} ${pkg.version}`;
