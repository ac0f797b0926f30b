/** The reference model: public entry points. */
export {
  ModelSpace,
  World,
  pageAlignU64,
  type ModelSpaceOptions,
  type ThpMode,
} from './address-space.js';
export {
  PROFILES,
  DEFAULT_PROFILE,
  getProfile,
  pickProfile,
  withOverrides,
  type Profile,
  type ProbeFacts,
  type PickedProfile,
} from './profiles.js';
export {
  planMovePageTables,
  tryRealignAddr,
  canAlignDown,
  summarizePlan,
  vmasPredicate,
  type MovePlan,
  type MovePlanInput,
  type PlanExtent,
} from './page-tables.js';
export {
  explainRemap,
  formatExplain,
  parseLayout,
  explainToJson,
  type ExplainResult,
} from './explain.js';
export { formatTrace, type MergeRecord, type OpTrace, type TraceEntry } from './trace.js';
export { VM, Vma, AnonVma, vmFlagMnemonics } from './vma.js';
export { wouldMergeAdjacent, isMergeableAnonVma } from './merge.js';
