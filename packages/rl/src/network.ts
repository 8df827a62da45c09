// The policy network in TensorFlow.js, with exactly the parameter layout of the WebAssembly MLP (@pprl/core-wasm
// MlpLayout): rollouts run the WebAssembly copy, updates differentiate this one, and `flatParams()` /
// `setFlatParams()` move the weights between them. Adam is written out (torch's update with eps outside the
// square root) so that its state is plain arrays in checkpoints.
import { mlpLayers, mlpParamCount, type MlpLayer, type MlpLayout } from '@pprl/core-wasm';
import { tf } from './tf.js';

interface DenseLayer {
  spec: MlpLayer;
  W: tf.Variable;
  b: tf.Variable;
}

export class TfPolicy {
  readonly paramCount: number;
  private readonly layers: DenseLayer[];

  constructor(
    readonly layout: MlpLayout,
    params: Float32Array,
  ) {
    this.paramCount = mlpParamCount(layout.obsDim, layout.hidden, layout.actions, layout.shared);
    if (params.length !== this.paramCount)
      throw new RangeError(`expected ${this.paramCount} parameters, got ${params.length}`);
    this.layers = mlpLayers(layout).map((spec) => ({
      spec,
      W: tf.variable(
        tf.tensor2d(params.subarray(spec.weightOffset, spec.weightOffset + spec.fanIn * spec.fanOut), [
          spec.fanIn,
          spec.fanOut,
        ]),
      ),
      b: tf.variable(tf.tensor1d(params.subarray(spec.biasOffset, spec.biasOffset + spec.fanOut))),
    }));
  }

  /** Trainable variables in parameter order (W then b of each layer). */
  get variables(): tf.Variable[] {
    return this.layers.flatMap((l) => [l.W, l.b]);
  }

  /** Logits [B][A] and values [B] of observations [B][D] (the same maths as the WebAssembly forward). */
  forward(obs: tf.Tensor2D): { logits: tf.Tensor2D; value: tf.Tensor1D } {
    const act = this.layout.activation === 'tanh' ? tf.tanh : tf.relu;
    const dense = (x: tf.Tensor2D, l: DenseLayer) => tf.add(tf.matMul(x, l.W as tf.Tensor2D), l.b) as tf.Tensor2D;
    const hiddenOf = (network: MlpLayer['network'], x: tf.Tensor2D) => {
      for (const l of this.layers)
        if (l.spec.network === network && l.spec.index < this.layout.hidden.length) x = act(dense(x, l));
      return x;
    };
    const head = (network: 'actor' | 'critic') =>
      this.layers.find((l) => l.spec.network === network && l.spec.index === this.layout.hidden.length)!;
    if (this.layout.shared) {
      const h = hiddenOf('trunk', obs);
      return { logits: dense(h, head('actor')), value: tf.reshape(dense(h, head('critic')), [-1]) as tf.Tensor1D };
    }
    return {
      logits: dense(hiddenOf('actor', obs), head('actor')),
      value: tf.reshape(dense(hiddenOf('critic', obs), head('critic')), [-1]) as tf.Tensor1D,
    };
  }

  /** The parameters as one Float32Array in the WebAssembly layout. */
  flatParams(): Float32Array {
    const out = new Float32Array(this.paramCount);
    for (const l of this.layers) {
      out.set(l.W.dataSync() as Float32Array, l.spec.weightOffset);
      out.set(l.b.dataSync() as Float32Array, l.spec.biasOffset);
    }
    return out;
  }

  setFlatParams(params: Float32Array): void {
    if (params.length !== this.paramCount)
      throw new RangeError(`expected ${this.paramCount} parameters, got ${params.length}`);
    tf.tidy(() => {
      for (const l of this.layers) {
        const { fanIn, fanOut, weightOffset, biasOffset } = l.spec;
        l.W.assign(tf.tensor2d(params.subarray(weightOffset, weightOffset + fanIn * fanOut), [fanIn, fanOut]));
        l.b.assign(tf.tensor1d(params.subarray(biasOffset, biasOffset + fanOut)));
      }
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

/** Adam (Kingma & Ba) as torch.optim.Adam computes it: p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
export class Adam {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  /** Steps taken. */
  step = 0;

  constructor(
    private readonly params: tf.Variable[],
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-5,
  ) {
    this.m = params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = params.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  /** One update with gradients in parameter order. */
  apply(grads: tf.Tensor[], lr: number): void {
    this.step++;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const m = this.m[i]!;
        const v = this.v[i]!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), lr / bc1)));
      });
    });
  }

  /** First and second moments, each flattened in parameter order (for checkpoints). */
  state(): { step: number; m: Float32Array; v: Float32Array } {
    const flat = (vars: tf.Variable[]) => {
      const out = new Float32Array(vars.reduce((n, x) => n + x.size, 0));
      let at = 0;
      for (const x of vars) {
        out.set(x.dataSync() as Float32Array, at);
        at += x.size;
      }
      return out;
    };
    return { step: this.step, m: flat(this.m), v: flat(this.v) };
  }

  setState(state: { step: number; m: Float32Array; v: Float32Array }): void {
    const load = (vars: tf.Variable[], data: Float32Array, what: string) => {
      const total = vars.reduce((n, x) => n + x.size, 0);
      if (data.length !== total)
        throw new RangeError(`optimizer ${what}: expected ${total} values, got ${data.length}`);
      let at = 0;
      for (const x of vars) {
        x.assign(tf.tensor(data.subarray(at, at + x.size), x.shape));
        at += x.size;
      }
    };
    tf.tidy(() => {
      load(this.m, state.m, 'first moments');
      load(this.v, state.v, 'second moments');
    });
    this.step = state.step;
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Scales gradients so that their global L2 norm is at most maxNorm (torch's clip_grad_norm_); returns the norm before.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { clipped: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return { clipped: grads.map((g) => tf.mul(g, coef)), norm };
  });
}

/** Advantages normalized per minibatch, as CleanRL does: unbiased standard deviation, + 1e-8. */
export function normalizeAdvantages(adv: tf.Tensor1D): tf.Tensor1D {
  const n = adv.shape[0];
  const { mean, variance } = tf.moments(adv);
  const std = tf.sqrt(tf.mul(variance, n / Math.max(n - 1, 1)));
  return tf.div(tf.sub(adv, mean), tf.add(std, 1e-8));
}
