/** Shared by the scenario-validation tests: a minimal valid scenario and the error of a bad one. */
import { ScenarioInputError } from '../../src/scenario/address.js';
import { validateScenario } from '../../src/scenario/schema.js';

export const good = {
  id: 'x',
  title: 't',
  source: 's',
  arena: { pages: 8 },
  steps: [{ op: 'map', at: '@0', len: 1 }],
};

/** [JSON path, message] of the ScenarioInputError validateScenario throws for v. */
export function problem(v: unknown): [string, string] {
  try {
    validateScenario(v);
  } catch (e) {
    if (e instanceof ScenarioInputError) return [e.path, e.message];
    throw e;
  }
  throw new Error('expected a validation error');
}
