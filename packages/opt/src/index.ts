// @pprl/opt: how far from optimal a pipeline schedule is (docs/SEMANTICS.md section 6).
export {
  episodeInstance,
  headsAndTails,
  topologicalOrder,
  forEachPredecessor,
  opId,
  codeOfId,
  idOfCode,
  KIND_F,
  KIND_B,
  KIND_W,
  type Instance,
} from './instance.js';
export {
  ordersOfSchedule,
  compileOrders,
  copyOrders,
  devicePeak,
  withinMemory,
  evaluateOrders,
  type Orders,
  type Evaluation,
} from './order.js';
export { lowerBound, jacksonBound, memoryBound, opsByDevice, type LowerBound } from './bounds.js';
export { searchOrders, OrderJudge, type SearchOptions, type SearchResult, type Episodes } from './search.js';
export { staticStarts, heuristicStarts, type NamedOrders } from './starts.js';
export { clairvoyantOracle, PROOF_TOLERANCE, type OracleOptions, type OracleResult } from './oracle.js';
export { polishWithMilp, solveExact, type MilpPolishOptions, type MilpPolishResult } from './milp.js';
export {
  optimalSchedule,
  robustSchedule,
  scheduleOfOrders,
  SCENARIO_EPISODE_START,
  type OptimalSchedule,
  type RobustSchedule,
  type RobustOptions,
} from './static.js';
export { lowerBounds, measureRoom, type RoomResult, type RoomOptions } from './room.js';
