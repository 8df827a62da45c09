// @pprl/schedulers: the schedule IR with torch's text form, every known schedule, validation, dynamic heuristics,
// and import/export (JSON, PyTorch CSV, Chrome trace, SVG).
export {
  formatAction,
  parseAction,
  type Op,
  type OpKind,
  type Schedule,
} from '@pprl/core-wasm';
export type { Generator, ScheduleInfo } from './types.js';
export { SCHEDULES, findSchedule, scheduleNames } from './registry.js';
export { gpipe, oneFOneB, oneFOneBSplit, interleaved1F1B, loopedBfs } from './generators/classic.js';
export { zbH1, zbH2 } from './generators/zb-handcrafted.js';
export { zbAuto, zbAutoWith, type ZbAutoOptions, type ZbAutoVariant } from './generators/zb-auto/index.js';
export { zbV } from './generators/v-shape/zb-v.js';
export { vHalf } from './generators/v-shape/v-half.js';
export { vMin } from './generators/v-shape/v-min.js';
export { dualPipeV } from './generators/dualpipe-v.js';
export { peakMemory, checkMemoryLimit } from './memory.js';
export { validateSchedule, assertValid, type ValidationReport } from './validate.js';
export {
  HEURISTICS,
  runHeuristic,
  heuristicEpisodes,
  remainingPath,
  type Heuristic,
  type HeuristicEpisodes,
  type HeuristicEpisodesOptions,
} from './heuristics.js';
export { scheduleToJson, scheduleFromJson } from './io/json.js';
export { scheduleToTorchCsv, scheduleFromTorchCsv, type TorchCsvOptions } from './io/torch-csv.js';
export {
  timelineToChromeTrace,
  type ChromeTrace,
  type ChromeTraceOptions,
  type TraceEvent,
} from './io/chrome-trace.js';
export { timelineToSvg, type SvgOptions } from './io/svg.js';
