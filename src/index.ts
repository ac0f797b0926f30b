/**
 * The library API. Kernel side: arenas, KernelSpace, probe, observation; model side:
 * ModelSpace and profiles; scenarios: validation and the runner. `sys` is the raw,
 * unconfined syscall layer for experts (see README: confinement).
 */
export * from './space/address-space.js';
export * from './space/constants.js';
export * from './space/errno.js';
export * from './space/result.js';

export { Arena, arenaOf } from './kernel/arena.js';
export { ArenaError } from './kernel/errors.js';
export { KernelSpace } from './kernel/kernel-space.js';
export { probe, type ProbeResult } from './kernel/probe.js';
export { sys as unsafe, sys } from './kernel/syscalls.js';
export { snapshot } from './kernel/snapshot.js';
export { readMaps, parseMapsText, type MapsEntry } from './kernel/maps.js';
export { readSmaps, parseSmaps, type SmapsEntry } from './kernel/smaps.js';
export { readPagemap } from './kernel/pagemap.js';
export { queryVma, queryWindow } from './kernel/procmap-query.js';
export { scanPagemap } from './kernel/pagemap-scan.js';
export { inspectFrames } from './kernel/kpageflags.js';

export { ModelSpace } from './model/address-space.js';
export { PROFILES, getProfile, pickProfile, type Profile } from './model/profiles.js';

export type { Scenario, Step } from './scenario/types.js';
export { validateScenario, scenarioJsonSchema } from './scenario/schema.js';
export { executeScenario, type ScenarioResult } from './scenario/execute.js';
export { loadScenarios } from './scenario/suite.js';
