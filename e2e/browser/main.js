// Replays 1F1B (P = 4, M = 8, F = B = W = 1, fused BW) with @pprl/core-wasm's WebAssembly engine and reports the
// result on window.pprlResult for the test; any failure (a module that cannot load, a wasm fetch error) is reported
// there too, so the test can say what broke instead of timing out.
const P = 4;
const M = 8;

/** 1F1B with fused backward: P - 1 - d warm-up forwards on device d, then one F / one BW, then the cool-down. */
function oneFOneB() {
  const devices = [];
  for (let d = 0; d < P; d++) {
    const ops = [];
    let f = 0;
    for (; f < P - 1 - d; f++) ops.push({ kind: 'F', mb: f, stage: d });
    for (let b = 0; b < M; b++) {
      if (f < M) ops.push({ kind: 'F', mb: f++, stage: d });
      ops.push({ kind: 'BW', mb: b, stage: d });
    }
    devices.push(ops);
  }
  return { stages: P, chunksPerDevice: 1, placement: 'loop', microBatches: M, devices, name: '1f1b' };
}

async function run() {
  const core = await import('@pprl/core-wasm');
  const problem = core.resolveProblem({ stages: P, microBatches: M, cost: { F: 1, B: 1, W: 1 } });
  const schedule = oneFOneB();
  const sim = await core.createSimulator();
  const r = sim.replay(problem, schedule, { episodes: 1, timelineEpisode: 0 });
  const reference = core.referenceReplay(problem, core.compileSchedule(problem, schedule), { episodes: 1 });

  // zod runs in the page: a bad config is rejected with a ConfigError naming the field
  let configError = null;
  try {
    core.resolveProblem({ stages: 0, microBatches: M });
  } catch (e) {
    configError = { name: e.name, isConfigError: e instanceof core.ConfigError, message: e.message };
  }

  // the schedulers package builds the same order in the page
  const { findSchedule } = await import('@pprl/schedulers');
  const built = findSchedule('1f1b').build(problem);

  return {
    engine: r.engine,
    makespan: r.makespan[0],
    span: r.span[0],
    busy: Array.from(r.busy),
    peakMemory: Array.from(r.peakMemory),
    timelineOps: r.timeline.ops.length,
    referenceMakespan: reference.makespan[0],
    configError,
    schedulersMakespan: sim.replay(problem, built).makespan[0],
    firstOps: r.timeline.ops.slice(0, 3).map((t) => core.formatAction(t.op)),
  };
}

const out = document.getElementById('out');
run().then(
  (result) => {
    window.pprlResult = result;
    out.textContent = JSON.stringify(result, null, 2);
  },
  (e) => {
    window.pprlResult = { error: String(e?.stack || e) };
    out.textContent = window.pprlResult.error;
  },
);
