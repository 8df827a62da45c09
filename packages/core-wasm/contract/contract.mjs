// The contract between the TypeScript driver (src/) and the AssemblyScript engine (assembly/): every number both
// sides must agree on (codes, block layouts, observation offsets, defaults, hash salts), defined once here.
// scripts/gen-contract.mjs writes it out as assembly/contract.ts (typed AssemblyScript consts) and src/contract.ts
// (TypeScript consts); test/contract.test.ts fails when either is stale. Semantics: docs/SEMANTICS.md sections 1-4,
// the observation table of README.md ("Environment").
//
// An entry is [name, type, value, doc]: type i32, u32 or f64 (the AssemblyScript type; TypeScript sees a number).
// Values written as hex strings ('0x9e3779b9') stay hex in both files.

/** @type {{ title: string, doc: string, entries: [string, 'i32' | 'u32' | 'f64', number | string, string][] }[]} */
export const groups = [
  {
    title: 'Op kinds',
    doc: 'Numeric op kinds of the simulators and of compiled op codes ((mb * S + stage) << 2 | kind).',
    entries: [
      ['KIND_F', 'i32', 0, 'Forward.'],
      ['KIND_B', 'i32', 1, "Input-gradient backward (torch's I)."],
      ['KIND_W', 'i32', 2, 'Weight-gradient backward.'],
      ['KIND_BW', 'i32', 3, "B and W fused (torch's B); it meets the noise of its B and its W."],
      ['CLASSES_PER_CHUNK', 'i32', 3, 'Op classes per local chunk in the environment: class k = c * 3 + kind.'],
    ],
  },
  {
    title: 'Noise identities',
    doc:
      'The kind part of a noise key (docs/SEMANTICS.md section 2): compute kinds, then transfers keyed by their ' +
      'sender.',
    entries: [
      ['NOISE_F', 'i32', 0, 'Compute noise of F.'],
      ['NOISE_B', 'i32', 1, 'Compute noise of B.'],
      ['NOISE_W', 'i32', 2, 'Compute noise of W.'],
      ['NOISE_COMM_F', 'i32', 3, 'The activation stage s sends to stage s + 1.'],
      ['NOISE_COMM_B', 'i32', 4, 'The gradient stage s sends to stage s - 1.'],
      ['NOISE_KINDS', 'i32', 5, 'Number of noise identities.'],
    ],
  },
  {
    title: 'Noise parameter block',
    doc: 'Slots of the f64[NOISE_FIELDS] block the loaders pass to replay and envSetProblem.',
    entries: [
      ['N_CV', 'i32', 0, 'Compute cv.'],
      ['N_COMM_CV', 'i32', 1, 'Transfer cv.'],
      ['N_FLOOR', 'i32', 2, 'Lower bound of the factor 1 + cv z.'],
      ['N_ANOMALY_P', 'i32', 3, 'Probability of an anomaly.'],
      ['N_ANOMALY_K', 'i32', 4, 'Factor of an anomaly.'],
      ['N_SEED', 'i32', 5, 'Noise seed (an unsigned 32-bit integer held as f64).'],
      ['NOISE_FIELDS', 'i32', 6, 'Length of the block.'],
    ],
  },
  {
    title: 'Defaults',
    doc: 'Defaults of problem configs and of drawn problems (problemSchema, ProblemRanges).',
    entries: [
      ['DEFAULT_NOISE_FLOOR', 'f64', 0.05, 'Noise floor: a duration never falls below 5% of its base.'],
      ['DEFAULT_ANOMALY_PROB', 'f64', 0, 'Anomaly probability.'],
      ['DEFAULT_ANOMALY_FACTOR', 'f64', 3, 'Anomaly factor.'],
      ['DEFAULT_MEM_F', 'f64', 1, "Memory F allocates (also every drawn problem's)."],
      ['DEFAULT_MEM_B', 'f64', 0, 'Memory B adds.'],
      ['DEFAULT_MEM_W', 'f64', -1, 'Memory W adds (frees).'],
      ['MAX_CHUNKS', 'i32', 16, "Largest V and Vmax (the environment keeps a device's 3 V classes in 48 bits)."],
    ],
  },
  {
    title: 'Counter-based hashing',
    doc:
      'Salts and scales of the counter-based generators (src/noise.ts, assembly/noise.ts): changing one changes ' +
      'every draw, on both sides alike.',
    entries: [
      ['HASH_GOLDEN', 'u32', '0x9e3779b9', 'Episode-key salt and the step of uniform draw j.'],
      ['HASH_KIND', 'u32', '0x85ebca6b', 'Multiplier of (kind + 1) in a stage key, of (env + 1) in a sampling key.'],
      ['HASH_MB', 'u32', '0xc2b2ae35', 'Multiplier of (mb + 1) in an op key.'],
      ['RANGES_SALT', 'u32', '0x2545f491', "Salt of the problem generator's key: mix32(mix32(seed ^ salt) ^ index)."],
      ['SAMPLE_SALT', 'u32', '0x68e31da4', "Salt of the MLP policy's sampling uniform (envSampleUniform)."],
      ['UNIT_SCALE', 'f64', 2.3283064365386963e-10, '2^-32: a 32-bit hash to [0, 1).'],
      ['UNIT_OFFSET', 'f64', 1.1641532182693481e-10, '2^-33: shifts the uniform into (0, 1), never 0 or 1.'],
      ['NORMAL_OCTAVES', 'i32', 31, 'Octaves of the inverse-CDF table of the normal (u down to 2^-32).'],
      ['NORMAL_PIECES', 'i32', 256, 'Linear pieces per octave (the table holds NORMAL_PIECES + 1 knots per octave).'],
    ],
  },
  {
    title: 'Problem ranges block',
    doc:
      'Slots of the f64[RANGE_FIELDS] block of a fresh-problem vector (rangesToArray); [lo, hi] pairs take two ' +
      'slots, lo first.',
    entries: [
      ['R_SEED', 'i32', 0, 'Generator seed.'],
      ['R_STAGES', 'i32', 1, 'P range (2 slots).'],
      ['R_CHUNKS', 'i32', 3, 'V range (2 slots).'],
      ['R_VSHAPE_PROB', 'i32', 5, 'Probability of v placement when V > 1.'],
      ['R_MICRO_BATCHES', 'i32', 6, 'M range (2 slots).'],
      ['R_COST_B', 'i32', 8, 'B / F cost range (2 slots).'],
      ['R_COST_W', 'i32', 10, 'W / F cost range (2 slots).'],
      ['R_COMM', 'i32', 12, 'Transfer / F cost range (2 slots).'],
      ['R_CV', 'i32', 14, 'Noise cv range (2 slots), compute and transfers.'],
      ['R_STAGE_SPREAD', 'i32', 16, 'Per-stage cost multiplier spread.'],
      ['R_LIMIT_PROB', 'i32', 17, 'Probability of a memory limit.'],
      ['R_LIMIT', 'i32', 18, 'Limit factor range (2 slots).'],
      ['R_FLOOR', 'i32', 20, 'Noise floor.'],
      ['R_ANOMALY_P', 'i32', 21, 'Anomaly probability.'],
      ['R_ANOMALY_K', 'i32', 22, 'Anomaly factor.'],
      ['R_NOISE_SEED', 'i32', 23, 'Noise seed of the drawn problems.'],
      ['RANGE_FIELDS', 'i32', 24, 'Length of the block.'],
    ],
  },
  {
    title: 'Problem generator draws',
    doc: 'Index j of uniform(key, j) behind each drawn field (drawProblemConfig; README "Fresh problems").',
    entries: [
      ['DRAW_STAGES', 'i32', 0, 'P.'],
      ['DRAW_CHUNKS', 'i32', 1, 'V.'],
      ['DRAW_MICRO_BATCHES', 'i32', 2, 'M.'],
      ['DRAW_VSHAPE', 'i32', 3, 'v placement or loop.'],
      ['DRAW_COST_B', 'i32', 4, 'B / F cost.'],
      ['DRAW_COST_W', 'i32', 5, 'W / F cost.'],
      ['DRAW_COMM', 'i32', 6, 'Transfer time.'],
      ['DRAW_CV', 'i32', 7, 'Noise cv.'],
      ['DRAW_HAS_LIMIT', 'i32', 8, 'Whether there is a memory limit.'],
      ['DRAW_LIMIT', 'i32', 9, 'Limit factor.'],
      ['DRAW_STAGE_SPREAD', 'i32', 16, "Stage s's cost multiplier is draw DRAW_STAGE_SPREAD + s."],
    ],
  },
  {
    title: 'Environment observation layout',
    doc:
      'Offsets of the f32 observation (README "Environment", the table): OBS_GLOBAL global features, then ' +
      'OBS_PER_CLASS per class k at OBS_GLOBAL + k * OBS_PER_CLASS; D = OBS_GLOBAL + 3 Vmax OBS_PER_CLASS.',
    entries: [
      ['OBS_GLOBAL', 'i32', 22, 'Features that do not depend on the class.'],
      ['OBS_PER_CLASS', 'i32', 7, 'Features per op class (3 per local chunk).'],
      ['OBS_POSITION', 'i32', 0, 'd / (P - 1).'],
      ['OBS_FIRST', 'i32', 1, 'd = 0.'],
      ['OBS_LAST', 'i32', 2, 'd = P - 1.'],
      ['OBS_PROGRESS', 'i32', 3, 'Ops finished / 3SM.'],
      ['OBS_OWN_PROGRESS', 'i32', 4, 'started(d) / 3VM.'],
      ['OBS_TIME', 'i32', 5, '0.5 min(t / scale, 4).'],
      ['OBS_MEMORY', 'i32', 6, 'Memory of d, relative, clipped to [-2, 2].'],
      ['OBS_HAS_LIMIT', 'i32', 7, 'The problem has a memory limit.'],
      ['OBS_IN_FLIGHT', 'i32', 8, '0.5 min(pending events / P, 2).'],
      ['OBS_IDLE', 'i32', 9, 'Idle devices / P.'],
      ['OBS_WAIT', 'i32', 10, 'Wait allowed.'],
      ['OBS_PREV_IDLE', 'i32', 11, 'Device d - 1 exists and is idle.'],
      ['OBS_PREV_STARTED', 'i32', 12, 'started(d - 1) / 3VM.'],
      ['OBS_NEXT_IDLE', 'i32', 13, 'Device d + 1 exists and is idle.'],
      ['OBS_NEXT_STARTED', 'i32', 14, 'started(d + 1) / 3VM.'],
      ['OBS_IDLE_SINCE', 'i32', 15, "squash((t - end of d's last op) / meanCost)."],
      ['OBS_MB_PER_DEVICE', 'i32', 16, '0.25 min(M / P, 4).'],
      ['OBS_CHUNKS', 'i32', 17, 'V / Vmax.'],
      ['OBS_HEADROOM', 'i32', 18, 'Memory group: headroom of d.'],
      ['OBS_HEADROOM_PREV', 'i32', 19, 'Memory group: headroom of d - 1.'],
      ['OBS_HEADROOM_NEXT', 'i32', 20, 'Memory group: headroom of d + 1.'],
      ['OBS_SOONEST', 'i32', 21, "Arrival group: the nearest expected input time of d's classes."],
      ['CLS_ELIGIBLE', 'i32', 0, 'Per class: eligible (the mask bit).'],
      ['CLS_REMAINING', 'i32', 1, 'Per class: (M - next micro-batch) / M.'],
      ['CLS_COST', 'i32', 2, 'Per class: squash(base cost / meanCost).'],
      ['CLS_READY', 'i32', 3, 'Per class: ready queue depth / P.'],
      ['CLS_PATH', 'i32', 4, 'Per class: remaining critical path / that of F(stage 0).'],
      ['CLS_ETA', 'i32', 5, 'Per class, arrival group: expected input time.'],
      ['CLS_PLAN', 'i32', 6, "Per class, plan group: the loaded schedule's next op on d."],
    ],
  },
  {
    title: 'Observation feature groups',
    doc: "Bits of envInit's featureOff: a group switched off is written as zeros (options `features`).",
    entries: [
      ['FEATURES_ARRIVAL', 'i32', 1, 'OBS_SOONEST and CLS_ETA.'],
      ['FEATURES_MEMORY', 'i32', 2, 'OBS_HEADROOM, OBS_HEADROOM_PREV, OBS_HEADROOM_NEXT.'],
      ['FEATURES_PLAN', 'i32', 4, 'CLS_PLAN.'],
    ],
  },
  {
    title: 'Memory rules',
    doc: 'envInit\'s reserveRule codes (README "Memory rules"; src/engine/memory.ts MEMORY_RULES).',
    entries: [
      ['MEMORY_PLAIN', 'i32', 0, 'current + memF <= limit.'],
      ['MEMORY_RESERVE', 'i32', 1, 'Also keep room for the forwards the lowest open micro-batch owes (default).'],
      ['MEMORY_LOWEST', 'i32', 2, 'Count only memory held for micro-batches at or above m0.'],
    ],
  },
  {
    title: 'Policies',
    doc: 'Policy codes of envRunEpisodes, envRunEpisodesMlp and envRollout.',
    entries: [
      ['POLICY_ZB', 'i32', 0, 'greedy-zb.'],
      ['POLICY_FFIRST', 'i32', 1, 'greedy-ffirst.'],
      ['POLICY_CP', 'i32', 2, 'greedy-cp.'],
      ['POLICY_REPLAY', 'i32', 3, 'The loaded schedule, op by op (envRunEpisodes only).'],
      ['POLICY_MLP', 'i32', 4, 'MLP, masked sampling.'],
      ['POLICY_MLP_GREEDY', 'i32', 5, 'MLP, argmax.'],
      ['POLICY_TEACHER', 'i32', 6, 'The loaded schedule as teacher (greedy-zb where it has no label).'],
    ],
  },
  {
    title: 'MLP activation codes',
    doc: 'The `act` argument of the MLP exports: bit 0 the hidden activation; rollouts add ACT_SHARED_TRUNK.',
    entries: [
      ['ACT_TANH', 'i32', 0, 'tanh hidden layers.'],
      ['ACT_RELU', 'i32', 1, 'relu hidden layers.'],
      ['ACT_SHARED_TRUNK', 'i32', 2, "Bit 1 of envRollout's / envRunEpisodesMlp's act: the shared-trunk layout."],
    ],
  },
  {
    title: 'Environment error codes',
    doc: 'The environment exports return -code; envError(ctx, field) gives the details of the last failure.',
    entries: [
      ['ERR_ACTION', 'i32', 1, 'An action the mask forbids.'],
      ['ERR_DEADLOCK', 'i32', 2, 'Nothing runs and no device can start (memory rule plain with V > 1).'],
      ['ERR_SILENT', 'i32', 3, 'MAX_SILENT_EPISODES episodes in a row without a decision.'],
      ['ERR_REPLAY_DEADLOCK', 'i32', 4, 'The loaded schedule blocks (device and class in the details).'],
      ['ERR_CONFIG', 'i32', 5, 'Bad arguments (sizes, policy, no problem loaded).'],
      ['ERR_PENDING', 'i32', 6, 'Stepped before the first observation.'],
      ['ERRF_CODE', 'i32', 0, 'envError field: the code.'],
      ['ERRF_ENV', 'i32', 1, 'envError field: the environment.'],
      ['ERRF_DEVICE', 'i32', 2, 'envError field: the device (-1: none).'],
      ['ERRF_ACTION', 'i32', 3, 'envError field: the action or class (-1: none).'],
      ['ERRF_EPISODE', 'i32', 4, 'envError field: the episode index.'],
      ['ERRF_TIME', 'i32', 5, 'envError field: the event time.'],
      ['MAX_SILENT_EPISODES', 'i32', 100, 'Consecutive episodes without a decision that are an error.'],
    ],
  },
  {
    title: 'Environment read-outs',
    doc: 'Fields of envState, of the per-env log (envLogRead, f64[N][LOG_FIELDS]) and of envProblemDump.',
    entries: [
      ['STATE_EPISODE', 'i32', 0, 'envState field: the current episode index.'],
      ['STATE_DEVICE', 'i32', 1, 'envState field: the deciding device.'],
      ['STATE_TIME', 'i32', 2, 'envState field: the decision time.'],
      ['LOG_EPISODES', 'i32', 0, 'Log slot: finished episodes.'],
      ['LOG_LAST', 'i32', 1, 'Log slot: the last makespan.'],
      ['LOG_SUM', 'i32', 2, 'Log slot: sum of makespans.'],
      ['LOG_SCALED', 'i32', 3, 'Log slot: sum of makespan / scale.'],
      ['LOG_DECISIONS', 'i32', 4, 'Log slot: decisions.'],
      ['LOG_SILENT', 'i32', 5, 'Log slot: silent episodes.'],
      ['LOG_FIELDS', 'i32', 6, 'Log slots per env.'],
      ['DUMP_HEADER', 'i32', 8, 'envProblemDump: P, V, M, memLimit, scale, meanCost, cv, seed before the tables.'],
      ['LAYOUT_VERSION', 'i32', '0x4c505033', "First word of a vector's state (version 3); restoreState compares it."],
    ],
  },
  {
    title: 'Episode statistics',
    doc:
      "Rows of envRunEpisodeStats's scratch f64[STAT_FIELDS][Pmax]: per device, the running episode's sums " +
      '(docs/SEMANTICS.md section 3).',
    entries: [
      ['STAT_BUSY', 'i32', 0, 'Summed realized op durations.'],
      ['STAT_FIRST', 'i32', 1, 'Start of the first op (-1 before it).'],
      ['STAT_PEAK', 'i32', 2, 'The largest memory level (from 0).'],
      ['STAT_FIELDS', 'i32', 3, 'Rows of the scratch.'],
    ],
  },
  {
    title: 'Static replay',
    doc: 'Return values of replay (0, or 1 + ops done on a deadlock).',
    entries: [['REPLAY_OK', 'i32', 0, 'Every op ran.']],
  },
];
