import { defineConfig } from 'vitest/config';
import { PROJECTS } from './test/projects.js';

// Three projects (test/projects.ts says which file is which): `npm run test:unit` (no
// kernel, no root), `test:kernel`, `test:e2e`; `npm test` runs them all.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: Object.entries(PROJECTS).map(([name, include]) => ({
      extends: true,
      test: { name, include: [...include] },
    })),
  },
});
