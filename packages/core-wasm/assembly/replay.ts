// Static-schedule replay: the hot loop. All state lives in caller-provided flat memory.
// Semantics (docs/SEMANTICS.md section 1): an op starts at max(device free, dependencies done + transfer);
// a device runs its list in order, one op at a time. Results do not depend on processing order.
import { episodeKey, stageKey, mbKey, factor } from './noise';
import { f64At, setF64, i32At, setI32, ptr64, ptr32 } from './memory';
import {
  KIND_F, KIND_B, KIND_W, KIND_BW, NOISE_F, NOISE_COMM_F, NOISE_COMM_B, NOISE_KINDS,
  N_CV, N_COMM_CV, N_FLOOR, N_ANOMALY_P, N_ANOMALY_K, N_SEED, REPLAY_OK,
} from './contract';

/** Fills fac[(kind * S + stage) * M + mb] for noise kinds [k0, k1). */
function drawFactors(
  fac: usize, epKey: u32, k0: i32, k1: i32, S: i32, M: i32, cv: f64, floor: f64, anomalyP: f64, anomalyK: f64,
): void {
  for (let kind = k0; kind < k1; kind++)
    for (let s = 0; s < S; s++) {
      const key = stageKey(epKey, <u32>kind, <u32>s);
      const row = ptr64(fac, (kind * S + s) * M);
      for (let mb = 0; mb < M; mb++) setF64(row, mb, factor(mbKey(key, <u32>mb), cv, floor, anomalyP, anomalyK));
    }
}

/** Bytes of scratch memory `replay` needs. */
export function replayScratchBytes(P: i32, S: i32, M: i32): i32 {
  return 2 * S * M * 8 + P * (8 * 4 + 4 * 3) + NOISE_KINDS * S * M * 8;
}

/**
 * Replays `episodes` episodes starting at episode index `episodeStart`.
 * Returns REPLAY_OK (0) on success, or 1 + (number of ops done) on deadlock; then scratch's head array
 * (at offset 2*S*M*8 + 4*P*8) holds each device's blocked position.
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
  const endB = ptr64(endF, SM);
  const freeAt = ptr64(endB, SM);
  const firstStart = ptr64(freeAt, P);
  const busy = ptr64(firstStart, P);
  const curMem = ptr64(busy, P);
  const head = ptr64(curMem, P);
  const stack = ptr32(head, P);
  const onStack = ptr32(stack, P);
  // f64[NOISE_KINDS * S * M]: this episode's duration factors of (noise kind, stage, mb), drawn in one pass before
  // the event loop so that the independent hash chains overlap in the CPU instead of waiting on the loop's
  // max-plus chain
  const fac = ptr32(onStack, P);

  const memF = ptr64(mem, KIND_F * S);
  const memB = ptr64(mem, KIND_B * S);
  const memW = ptr64(mem, KIND_W * S);

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
  const tlOpEnd = ptr64(timeline, totalOps);
  const tlXF = ptr64(tlOpEnd, totalOps);
  const tlXB = ptr64(tlXF, 2 * SM);

  for (let k = 0; k < episodes; k++) {
    const ep = episodeStart + k;
    const epKey = episodeKey(seed, <u32>ep);
    const record = timeline != 0 && ep == timelineEpisode;
    const trackMem = k == 0; // memory depends on the order only, not on durations
    if (computeNoisy) drawFactors(fac, epKey, NOISE_F, NOISE_COMM_F, S, M, cv, floor, anomalyP, anomalyK);
    if (commNoisy) drawFactors(fac, epKey, NOISE_COMM_F, NOISE_KINDS, S, M, commCv, floor, anomalyP, anomalyK);
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
          let b = f64At(cost, KIND_B * S + stage);
          let w = f64At(cost, KIND_W * S + stage);
          if (computeNoisy) {
            b *= f64At(fac, KIND_B * SM + idx);
            w *= f64At(fac, KIND_W * SM + idx);
          }
          dur = b + w;
        } else {
          dur = f64At(cost, kind * S + stage);
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
            if (kind == KIND_F) { setF64(tlXF, idx - M, xferStart); setF64(tlXF, SM + idx - M, xferEnd); }
            else { setF64(tlXB, idx + M, xferStart); setF64(tlXB, SM + idx + M, xferEnd); }
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
  return REPLAY_OK;
}
