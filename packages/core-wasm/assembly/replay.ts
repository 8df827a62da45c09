// Static-schedule replay: the hot loop. All state lives in caller-provided flat memory.
// Semantics (docs/SEMANTICS.md section 1): an op starts at max(device free, dependencies done + transfer);
// a device runs its list in order, one op at a time. Results do not depend on processing order.
import { episodeKey, stageKey, mbKey, factor } from './noise';

export const KIND_F: i32 = 0;
export const KIND_B: i32 = 1;
export const KIND_W: i32 = 2;
export const KIND_BW: i32 = 3;
// noise identities of transfers: activation sent by stage s to s+1, gradient sent by stage s to s-1
const NOISE_COMM_F: i32 = 3;
const NOISE_COMM_B: i32 = 4;

// noise parameter block (f64 slots)
const N_CV = 0;
const N_COMM_CV = 1;
const N_FLOOR = 2;
const N_ANOMALY_P = 3;
const N_ANOMALY_K = 4;
const N_SEED = 5;

// @ts-ignore: decorator
@inline function f64At(base: usize, i: i32): f64 { return load<f64>(base + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function setF64(base: usize, i: i32, v: f64): void { store<f64>(base + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline function i32At(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setI32(base: usize, i: i32, v: i32): void { store<i32>(base + (<usize>i << 2), v); }

/** Fills fac[(kind * S + stage) * M + mb] for noise kinds [k0, k1). */
function drawFactors(fac: usize, epKey: u32, k0: i32, k1: i32, S: i32, M: i32, cv: f64, floor: f64, anomalyP: f64, anomalyK: f64): void {
  for (let kind = k0; kind < k1; kind++)
    for (let s = 0; s < S; s++) {
      const key = stageKey(epKey, <u32>kind, <u32>s);
      const row = fac + (<usize>((kind * S + s) * M) << 3);
      for (let mb = 0; mb < M; mb++) store<f64>(row + (<usize>mb << 3), factor(mbKey(key, <u32>mb), cv, floor, anomalyP, anomalyK));
    }
}

/** Bytes of scratch memory `replay` needs. */
export function replayScratchBytes(P: i32, S: i32, M: i32): i32 {
  return 2 * S * M * 8 + P * (8 * 4 + 4 * 3) + 5 * S * M * 8;
}

/**
 * Replays `episodes` episodes starting at episode index `episodeStart`.
 * Returns 0 on success, or 1 + (number of ops done) on deadlock; then scratch's head array
 * (at offset 2*S*M*8) holds each device's blocked position.
 */
export function replay(
  P: i32, S: i32, M: i32,
  stageDevice: usize, cost: usize, comm: usize, mem: usize, noise: usize,
  ops: usize, devStart: usize,
  episodeStart: i32, episodes: i32,
  scratch: usize,
  outMakespan: usize, outSpan: usize, outBusy: usize, outPeak: usize,
  timeline: usize, timelineEpisode: i32,
): i32 {
  const SM = S * M;
  const endF = scratch;
  const endB = endF + (<usize>SM << 3);
  const freeAt = endB + (<usize>SM << 3);
  const firstStart = freeAt + (<usize>P << 3);
  const busy = firstStart + (<usize>P << 3);
  const curMem = busy + (<usize>P << 3);
  const head = curMem + (<usize>P << 3);
  const stack = head + (<usize>P << 2);
  const onStack = stack + (<usize>P << 2);
  // f64[5 * S * M]: this episode's duration factors of (noise kind, stage, mb), drawn in one pass before the
  // event loop so that the independent hash chains overlap in the CPU instead of waiting on the loop's max-plus chain
  const fac = onStack + (<usize>P << 2);

  const costF = cost;
  const costB = cost + (<usize>S << 3);
  const costW = cost + (<usize>(2 * S) << 3);
  const memF = mem;
  const memB = mem + (<usize>S << 3);
  const memW = mem + (<usize>(2 * S) << 3);

  const cv = f64At(noise, N_CV);
  const commCv = f64At(noise, N_COMM_CV);
  const floor = f64At(noise, N_FLOOR);
  const anomalyP = f64At(noise, N_ANOMALY_P);
  const anomalyK = f64At(noise, N_ANOMALY_K);
  const seed = <u32>f64At(noise, N_SEED);
  const computeNoisy = cv > 0 || anomalyP > 0;
  const commNoisy = commCv > 0 || anomalyP > 0;
  const totalOps = i32At(devStart, P);
  // timeline layout: opStart f64[N], opEnd f64[N], xferF start/end f64[SM] x2, xferB start/end f64[SM] x2
  const tlOpStart = timeline;
  const tlOpEnd = timeline + (<usize>totalOps << 3);
  const tlXF = tlOpEnd + (<usize>totalOps << 3);
  const tlXB = tlXF + (<usize>(2 * SM) << 3);

  for (let k = 0; k < episodes; k++) {
    const ep = episodeStart + k;
    const epKey = episodeKey(seed, <u32>ep);
    const record = timeline != 0 && ep == timelineEpisode;
    const trackMem = k == 0; // memory depends on the order only, not on durations
    if (computeNoisy) drawFactors(fac, epKey, 0, 3, S, M, cv, floor, anomalyP, anomalyK);
    if (commNoisy) drawFactors(fac, epKey, 3, 5, S, M, commCv, floor, anomalyP, anomalyK);
    for (let i = 0; i < SM; i++) { setF64(endF, i, -1); setF64(endB, i, -1); }
    for (let d = 0; d < P; d++) {
      setF64(freeAt, d, 0); setF64(firstStart, d, -1); setF64(busy, d, 0); setF64(curMem, d, 0);
      if (trackMem) setF64(outPeak, d, 0);
      setI32(head, d, i32At(devStart, d));
      setI32(stack, d, P - 1 - d); setI32(onStack, d, 1);
    }
    let sp = P;
    let done = 0;
    while (sp > 0) {
      sp--;
      const d = i32At(stack, sp);
      setI32(onStack, d, 0);
      let h = i32At(head, d);
      const hEnd = i32At(devStart, d + 1);
      let t0 = f64At(freeAt, d);
      while (h < hEnd) {
        const code = i32At(ops, h);
        const kind = code & 3;
        const rest = code >> 2;
        const stage = rest % S;
        const mb = rest / S;
        const idx = stage * M + mb;
        let ready = t0;
        let xferStart: f64 = -1;
        let xferEnd: f64 = -1;
        if (kind == KIND_F) {
          if (stage > 0) {
            const e = f64At(endF, idx - M);
            if (e < 0) break;
            let t = e;
            if (i32At(stageDevice, stage - 1) != d) {
              let c = f64At(comm, stage - 1);
              if (commNoisy) c *= f64At(fac, NOISE_COMM_F * SM + idx - M);
              t = e + c;
              xferStart = e; xferEnd = t;
            }
            if (t > ready) ready = t;
          }
        } else if (kind == KIND_W) {
          const e = f64At(endB, idx);
          if (e < 0) break;
          if (e > ready) ready = e;
        } else {
          const ef = f64At(endF, idx);
          if (ef < 0) break;
          if (ef > ready) ready = ef;
          if (stage < S - 1) {
            const e = f64At(endB, idx + M);
            if (e < 0) break;
            let t = e;
            if (i32At(stageDevice, stage + 1) != d) {
              let c = f64At(comm, stage);
              if (commNoisy) c *= f64At(fac, NOISE_COMM_B * SM + idx + M);
              t = e + c;
              xferStart = e; xferEnd = t;
            }
            if (t > ready) ready = t;
          }
        }
        // duration
        let dur: f64;
        if (kind == KIND_BW) {
          let b = f64At(costB, stage);
          let w = f64At(costW, stage);
          if (computeNoisy) {
            b *= f64At(fac, KIND_B * SM + idx);
            w *= f64At(fac, KIND_W * SM + idx);
          }
          dur = b + w;
        } else {
          dur = f64At(cost + (<usize>(kind * S) << 3), stage);
          if (computeNoisy) dur *= f64At(fac, kind * SM + idx);
        }
        const end = ready + dur;
        if (trackMem) {
          let m = f64At(curMem, d);
          if (kind == KIND_F) {
            m += f64At(memF, stage);
            if (m > f64At(outPeak, d)) setF64(outPeak, d, m);
          } else {
            if (kind == KIND_B) m += f64At(memB, stage);
            else if (kind == KIND_W) m += f64At(memW, stage);
            else m += f64At(memB, stage) + f64At(memW, stage);
            if (m > f64At(outPeak, d)) setF64(outPeak, d, m);
          }
          setF64(curMem, d, m);
        }
        if (f64At(firstStart, d) < 0) setF64(firstStart, d, ready);
        setF64(busy, d, f64At(busy, d) + dur);
        t0 = end;
        if (record) {
          setF64(tlOpStart, h, ready); setF64(tlOpEnd, h, end);
          if (xferStart >= 0) {
            if (kind == KIND_F) { setF64(tlXF, idx - M, xferStart); setF64(tlXF + (<usize>SM << 3), idx - M, xferEnd); }
            else { setF64(tlXB, idx + M, xferStart); setF64(tlXB + (<usize>SM << 3), idx + M, xferEnd); }
          }
        }
        h++;
        done++;
        // publish and wake the neighbour device that may be waiting for this op
        let wake = -1;
        if (kind == KIND_F) {
          setF64(endF, idx, end);
          if (stage + 1 < S) wake = i32At(stageDevice, stage + 1);
        } else if (kind != KIND_W) {
          setF64(endB, idx, end);
          if (stage > 0) wake = i32At(stageDevice, stage - 1);
        }
        if (wake >= 0 && wake != d && i32At(onStack, wake) == 0) {
          setI32(stack, sp, wake); sp++; setI32(onStack, wake, 1);
        }
      }
      setI32(head, d, h);
      setF64(freeAt, d, t0);
    }
    if (done < totalOps) return 1 + done;
    let makespan: f64 = 0;
    let span: f64 = 0;
    for (let d = 0; d < P; d++) {
      const f = f64At(freeAt, d);
      if (f > makespan) makespan = f;
      const s0 = f64At(firstStart, d);
      if (s0 >= 0 && f - s0 > span) span = f - s0;
      setF64(outBusy, k * P + d, f64At(busy, d));
    }
    setF64(outMakespan, k, makespan);
    setF64(outSpan, k, span);
  }
  return 0;
}
