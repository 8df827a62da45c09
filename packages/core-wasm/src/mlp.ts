// The PPO policy network (separate actor and critic MLPs as in CleanRL's ppo.py, or optionally one shared trunk
// with two heads) held in WebAssembly memory.
// The forward pass itself is assembly/mlp.ts; this file owns the parameter layout, the initialisation and a
// TypeScript handle for tests, evaluation and for WebAssembly callers that need the pointers.
import { ACT_RELU, ACT_TANH, HASH_GOLDEN, HASH_KIND, HASH_MB } from './contract.js';
import { mix32, normal } from './noise.js';
import { loadCore, type WasmCore, type WasmExports } from './wasm.js';

/**
 * Shape of the policy. Parameters are one Float32Array, laid out as:
 *
 *   actor:  D -> hidden[0] -> ... -> hidden[n-1] -> actions (logits)
 *   critic: D -> hidden[0] -> ... -> hidden[n-1] -> 1       (value)
 *
 * The actor's layers come first, then the critic's. Each layer is its weight matrix W of shape [in][out],
 * row-major (W[i * out + j] multiplies input i for output j), immediately followed by its bias b[out].
 * Hidden layers apply `activation`; both output layers are linear. See `mlpLayers` for the offsets.
 *
 * With `shared: true` actor and critic share the hidden layers: one trunk D -> hidden[0] -> ... -> hidden[n-1]
 * feeds two linear heads, laid out as the trunk's layers, then the actor head (hidden[n-1] -> actions), then the
 * critic head (hidden[n-1] -> 1), each layer again W[in][out] then b[out]. Half the multiply-adds of the default.
 */
export interface MlpLayout {
  obsDim: number;
  hidden: number[];
  actions: number;
  activation: 'tanh' | 'relu';
  /** One hidden trunk for actor and critic (two heads) instead of two separate networks. Default false. */
  shared?: boolean;
}

/**
 * The WebAssembly exports of assembly/mlp.ts, as asc declares them (pointers are byte offsets into the module's
 * memory): the forwards (one observation, or a batch bit-identical to one forward each; `*Shared` for the
 * shared-trunk layout), parameter and scratch sizes, and masked sampling.
 */
export type MlpExports = Pick<
  WasmExports,
  Extract<keyof WasmExports, `mlp${string}`> | 'sampleMasked' | 'argmaxMasked'
>;

/** Activation code passed to `mlpForward`. */
export function activationCode(activation: MlpLayout['activation']): typeof ACT_TANH | typeof ACT_RELU {
  return activation === 'tanh' ? ACT_TANH : ACT_RELU;
}

/**
 * Total parameter count: 2 * sum over hidden layers (in*out + out) + (H*A + A) + (H + 1), H the last width;
 * with `shared` the hidden layers count once.
 */
export function mlpParamCount(D: number, hidden: readonly number[], A: number, shared = false): number {
  let trunk = 0;
  let fanIn = D;
  for (const h of hidden) {
    trunk += fanIn * h + h;
    fanIn = h;
  }
  return (shared ? 1 : 2) * trunk + (fanIn * A + A) + (fanIn + 1);
}

/** One dense layer's place in the parameter array. */
export interface MlpLayer {
  /** 'trunk' only in shared layouts, whose 'actor' and 'critic' entries are just the heads. */
  network: 'actor' | 'critic' | 'trunk';
  /**
   * Position within its network: 0 .. hidden.length (the last is the linear head). In shared layouts trunk
   * layers have 0 .. hidden.length - 1 and both heads hidden.length, so `index === hidden.length` means a head.
   */
  index: number;
  fanIn: number;
  fanOut: number;
  /** Offset (in floats) of W[fanIn][fanOut]; the bias b[fanOut] follows at `biasOffset`. */
  weightOffset: number;
  biasOffset: number;
  /** CleanRL's orthogonal gain: sqrt(2) for hidden layers, 0.01 for the actor head, 1 for the critic head. */
  gain: number;
}

/** The layers in parameter order: actor then critic, or with `shared` trunk, actor head, critic head. */
export function mlpLayers(layout: MlpLayout): MlpLayer[] {
  checkLayout(layout);
  const layers: MlpLayer[] = [];
  let offset = 0;
  if (layout.shared) {
    const widths = [layout.obsDim, ...layout.hidden];
    for (let index = 0; index + 1 < widths.length; index++) {
      const fanIn = widths[index]!;
      const fanOut = widths[index + 1]!;
      layers.push({
        network: 'trunk',
        index,
        fanIn,
        fanOut,
        weightOffset: offset,
        biasOffset: offset + fanIn * fanOut,
        gain: Math.SQRT2,
      });
      offset += fanIn * fanOut + fanOut;
    }
    const fanIn = widths[widths.length - 1]!;
    const index = layout.hidden.length;
    for (const [network, fanOut, gain] of [
      ['actor', layout.actions, 0.01],
      ['critic', 1, 1],
    ] as const) {
      layers.push({ network, index, fanIn, fanOut, weightOffset: offset, biasOffset: offset + fanIn * fanOut, gain });
      offset += fanIn * fanOut + fanOut;
    }
    return layers;
  }
  for (const network of ['actor', 'critic'] as const) {
    const widths = [layout.obsDim, ...layout.hidden, network === 'actor' ? layout.actions : 1];
    for (let index = 0; index + 1 < widths.length; index++) {
      const fanIn = widths[index]!;
      const fanOut = widths[index + 1]!;
      const head = index === layout.hidden.length;
      layers.push({
        network,
        index,
        fanIn,
        fanOut,
        weightOffset: offset,
        biasOffset: offset + fanIn * fanOut,
        gain: !head ? Math.SQRT2 : network === 'actor' ? 0.01 : 1,
      });
      offset += fanIn * fanOut + fanOut;
    }
  }
  return layers;
}

function checkLayout(layout: MlpLayout): void {
  const positive = (x: number) => Number.isInteger(x) && x > 0;
  if (!positive(layout.obsDim) || !positive(layout.actions) || !layout.hidden.every(positive))
    throw new RangeError(
      `MLP layout needs positive integer sizes, got obsDim ${layout.obsDim}, ` +
        `hidden [${layout.hidden.join(', ')}], actions ${layout.actions}`,
    );
}

/**
 * A [rows][cols] matrix with orthonormal columns (rows >= cols): Gram-Schmidt on a Gaussian matrix, columns
 * as Float64Arrays. Each column is orthogonalised twice against the earlier ones ("twice is enough"), so the
 * result is orthonormal to rounding. Gram-Schmidt's R has a positive diagonal, which is the sign convention
 * that makes QR of a Gaussian matrix Haar-distributed (torch.nn.init.orthogonal_ fixes signs the same way).
 */
function orthonormalColumns(rows: number, cols: number, draw: (k: number) => number): Float64Array[] {
  const q: Float64Array[] = [];
  for (let c = 0; c < cols; c++) {
    const v = new Float64Array(rows);
    for (let r = 0; r < rows; r++) v[r] = draw(r * cols + c);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of q) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += u[r]! * v[r]!;
        for (let r = 0; r < rows; r++) v[r]! -= dot * u[r]!;
      }
    }
    let norm = 0;
    for (let r = 0; r < rows; r++) norm += v[r]! * v[r]!;
    norm = Math.sqrt(norm);
    for (let r = 0; r < rows; r++) v[r]! /= norm;
    q.push(v);
  }
  return q;
}

/**
 * CleanRL's `layer_init` for every layer: (semi-)orthogonal weights scaled by the layer's gain, zero biases.
 * With in >= out the columns of W[in][out] are orthonormal (W^T W = gain^2 I), otherwise its rows are
 * (W W^T = gain^2 I), as torch's orthogonal_ gives for the transposed torch weight [out][in].
 * Deterministic from `seed`: Gaussians come from the counter-based normal of src/noise.ts keyed by
 * (seed, layer, element), and the rest uses only + - * / sqrt, so every JS engine gives the same bits.
 */
export function orthogonalInit(layout: MlpLayout, seed: number): Float32Array {
  const params = new Float32Array(mlpParamCount(layout.obsDim, layout.hidden, layout.actions, layout.shared));
  const seedKey = mix32(mix32((seed >>> 0) ^ HASH_GOLDEN) ^ 0x6d6c70); // 'mlp'
  mlpLayers(layout).forEach((layer, l) => {
    const { fanIn, fanOut, weightOffset, gain } = layer;
    const layerKey = mix32(seedKey ^ Math.imul(l + 1, HASH_KIND));
    const draw = (k: number) => normal(mix32(layerKey ^ Math.imul(k + 1, HASH_MB)));
    const tall = fanIn >= fanOut;
    const q = orthonormalColumns(Math.max(fanIn, fanOut), Math.min(fanIn, fanOut), draw);
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++) params[weightOffset + i * fanOut + j] = gain * (tall ? q[j]![i]! : q[i]![j]!);
  });
  return params;
}

/** Result of a masked draw. */
export interface MaskedSample {
  /** The chosen action, or -1 when the mask allows none. */
  action: number;
  logProb: number;
  entropy: number;
}

/**
 * An MLP policy resident in WebAssembly memory. WebAssembly rollouts pass `paramsPtr`, `hiddenPtr` and
 * `scratchPtr` straight to `mlpForward`; the methods here serve tests and evaluation from TypeScript.
 */
export class WasmMlp {
  readonly paramCount: number;
  readonly paramsPtr: number;
  /** i32[hidden.length], the widths as `mlpForward` reads them. */
  readonly hiddenPtr: number;
  readonly scratchPtr: number;
  private readonly ioPtr: number;
  private readonly wasm: MlpExports;
  private readonly act: typeof ACT_TANH | typeof ACT_RELU;
  private readonly shared: boolean;
  private disposed = false;

  /** Loads the shared WebAssembly core and places the policy in it (`params` defaults to zeros). */
  static async create(layout: MlpLayout, params?: Float32Array): Promise<WasmMlp> {
    return new WasmMlp(await loadCore(), layout, params);
  }

  constructor(
    private readonly core: WasmCore,
    readonly layout: MlpLayout,
    params?: Float32Array,
  ) {
    checkLayout(layout);
    this.wasm = core.exports;
    this.act = activationCode(layout.activation);
    this.shared = layout.shared ?? false;
    const { obsDim: D, hidden, actions: A } = layout;
    this.paramCount = mlpParamCount(D, hidden, A, this.shared);
    this.hiddenPtr = core.alloc(4 * hidden.length);
    core.i32(this.hiddenPtr, hidden.length).set(hidden);
    this.paramsPtr = core.alloc(4 * this.paramCount);
    this.scratchPtr = core.alloc(this.wasm.mlpScratchBytes(this.hiddenPtr, hidden.length));
    // obs f32[D] | logits f32[A] | logp f32 | entropy f32 | mask u8[A]
    this.ioPtr = core.alloc(4 * (D + A + 2) + A);
    if (params) this.setParams(params);
    else this.f32(this.paramsPtr, this.paramCount).fill(0);
  }

  private f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.core.memory.buffer, ptr, length);
  }

  private get obsPtr(): number {
    return this.ioPtr;
  }

  private get logitsPtr(): number {
    return this.ioPtr + 4 * this.layout.obsDim;
  }

  private get logpPtr(): number {
    return this.logitsPtr + 4 * this.layout.actions;
  }

  private get maskPtr(): number {
    return this.logpPtr + 8;
  }

  private live(): void {
    if (this.disposed) throw new Error('WasmMlp used after dispose()');
  }

  setParams(params: Float32Array): void {
    this.live();
    if (params.length !== this.paramCount)
      throw new RangeError(`expected ${this.paramCount} parameters, got ${params.length}`);
    this.f32(this.paramsPtr, this.paramCount).set(params);
  }

  /** A copy of the parameters. */
  getParams(): Float32Array {
    this.live();
    return Float32Array.from(this.f32(this.paramsPtr, this.paramCount));
  }

  forward(obs: Float32Array): { logits: Float32Array; value: number } {
    this.live();
    const { obsDim: D, hidden, actions: A } = this.layout;
    if (obs.length !== D) throw new RangeError(`expected an observation of ${D} floats, got ${obs.length}`);
    this.f32(this.obsPtr, D).set(obs);
    const value = (this.shared ? this.wasm.mlpForwardShared : this.wasm.mlpForward)(
      this.paramsPtr,
      D,
      this.hiddenPtr,
      hidden.length,
      A,
      this.act,
      this.obsPtr,
      this.scratchPtr,
      this.logitsPtr,
    );
    return { logits: Float32Array.from(this.f32(this.logitsPtr, A)), value };
  }

  /** Forward of n observations stored one after another in `obs` (n * obsDim floats). */
  forwardBatch(obs: Float32Array, n: number): { logits: Float32Array; values: Float32Array } {
    this.live();
    const { obsDim: D, hidden, actions: A } = this.layout;
    if (obs.length < n * D) throw new RangeError(`expected ${n} observations of ${D} floats, got ${obs.length} floats`);
    const input = this.reattach(obs);
    const block = this.core.alloc(4 * n * (D + A));
    try {
      this.f32(block, n * D).set(input().subarray(0, n * D));
      const out = block + 4 * n * D;
      const values = new Float32Array(n);
      const forward = this.shared ? this.wasm.mlpForwardShared : this.wasm.mlpForward;
      for (let k = 0; k < n; k++)
        values[k] = forward(
          this.paramsPtr,
          D,
          this.hiddenPtr,
          hidden.length,
          A,
          this.act,
          block + 4 * k * D,
          this.scratchPtr,
          out + 4 * k * A,
        );
      return { logits: Float32Array.from(this.f32(out, n * A)), values };
    } finally {
      this.core.release(block);
    }
  }

  /**
   * Forward of n observations stored one after another in `obs` (n * obsDim floats) in a single call of
   * `mlpForwardBatch`, which shares each weight load among several observations. The results equal those of
   * `forward` (and `forwardBatch`) bit for bit.
   */
  forwardMany(
    obs: Float32Array,
    n: number = Math.floor(obs.length / this.layout.obsDim),
  ): { logits: Float32Array; values: Float32Array } {
    this.live();
    const { obsDim: D, hidden, actions: A } = this.layout;
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`expected a non-negative integer count of observations, got ${n}`);
    if (obs.length < n * D) throw new RangeError(`expected ${n} observations of ${D} floats, got ${obs.length} floats`);
    if (n === 0) return { logits: new Float32Array(0), values: new Float32Array(0) };
    const scratchBytes = this.wasm.mlpBatchScratchBytes(this.hiddenPtr, hidden.length, n);
    // obs f32[n][D] | logits f32[n][A] | values f32[n] | scratch
    const ioBytes = Math.ceil((4 * n * (D + A + 1)) / 16) * 16;
    const input = this.reattach(obs);
    const block = this.core.alloc(ioBytes + scratchBytes);
    try {
      this.f32(block, n * D).set(input().subarray(0, n * D));
      const logits = block + 4 * n * D;
      const values = logits + 4 * n * A;
      const scratch = block + ioBytes;
      (this.shared ? this.wasm.mlpForwardBatchShared : this.wasm.mlpForwardBatch)(
        this.paramsPtr,
        D,
        this.hiddenPtr,
        hidden.length,
        A,
        this.act,
        block,
        n,
        scratch,
        logits,
        values,
      );
      return { logits: Float32Array.from(this.f32(logits, n * A)), values: Float32Array.from(this.f32(values, n)) };
    } finally {
      this.core.release(block);
    }
  }

  /**
   * `obs` again after an allocation: a view into this module's memory (a rollout buffer) is detached when the
   * memory grows, so it is re-created at the same place.
   */
  private reattach(obs: Float32Array): () => Float32Array {
    if (obs.buffer !== this.core.memory.buffer) return () => obs;
    const { byteOffset, length } = obs;
    return () => new Float32Array(this.core.memory.buffer, byteOffset, length);
  }

  private setMask(mask: ArrayLike<number | boolean>): void {
    const A = this.layout.actions;
    if (mask.length !== A) throw new RangeError(`expected a mask of ${A} entries, got ${mask.length}`);
    const m = new Uint8Array(this.core.memory.buffer, this.maskPtr, A);
    for (let i = 0; i < A; i++) m[i] = mask[i] ? 1 : 0;
  }

  private setLogits(logits: Float32Array): void {
    const A = this.layout.actions;
    if (logits.length !== A) throw new RangeError(`expected ${A} logits, got ${logits.length}`);
    this.f32(this.logitsPtr, A).set(logits);
  }

  /** Inverse-CDF draw with uniform `u` in (0, 1) from the softmax of the allowed logits. */
  sample(logits: Float32Array, mask: ArrayLike<number | boolean>, u: number): MaskedSample {
    this.live();
    this.setLogits(logits);
    this.setMask(mask);
    const action = this.wasm.sampleMasked(
      this.logitsPtr,
      this.maskPtr,
      this.layout.actions,
      u,
      this.logpPtr,
      this.logpPtr + 4,
    );
    const [logProb, entropy] = this.f32(this.logpPtr, 2);
    return { action, logProb: logProb!, entropy: entropy! };
  }

  /** The allowed action with the largest logit (lowest index on ties), -1 when none is allowed. */
  argmax(logits: Float32Array, mask: ArrayLike<number | boolean>): number {
    this.live();
    this.setLogits(logits);
    this.setMask(mask);
    return this.wasm.argmaxMasked(this.logitsPtr, this.maskPtr, this.layout.actions);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ptr of [this.ioPtr, this.scratchPtr, this.paramsPtr, this.hiddenPtr]) this.core.release(ptr);
  }
}
