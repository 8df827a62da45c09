// The gradient step of training, behind one seam so that the trainer does not care which engine differentiates:
// a batch of rollout rows is loaded once, then each minibatch (row indices) takes one optimizer step on
//
//   loss = policyCoef * clipped surrogate - entropyCoef * entropy + valueCoef * (clipped) value loss
//          + cloneCoef * cross-entropy to the teacher's action (rows without a teacher label are left out)
//
// PPO uses policyCoef 1 (and cloneCoef for an optional pull toward a teacher); behaviour cloning uses policyCoef 0
// and entropyCoef 0. This module is the TensorFlow.js engine.
import type * as TF from '@tensorflow/tfjs-core';
import type { MlpLayout } from '@pprl/core-wasm';

/** Rollout rows as the trainer holds them (row-major, one row per decision). */
export interface UpdateBatch {
  obs: Float32Array;
  /** 1 where the action may be taken (the environment's mask, the wait action already removed when not allowed). */
  allowed: Uint8Array;
  actions: Int32Array;
  logProb: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  values: Float32Array;
  /** The teacher's action per row, -1 where it has none (only read when cloneCoef > 0). */
  teacher?: Int32Array;
}

export interface LossCoefs {
  policy: number;
  entropy: number;
  value: number;
  clone: number;
  /** Ratio clip (and value clip when clipValueLoss). */
  clip: number;
  clipValueLoss: boolean;
  normalizeAdvantages: boolean;
  maxGradNorm: number;
}

export interface MinibatchStats {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  gradNorm: number;
  /** Cross-entropy to the teacher over labelled rows (0 when cloneCoef is 0). */
  cloneLoss: number;
  /** Share of labelled rows whose argmax action is the teacher's (0 when cloneCoef is 0). */
  cloneAccuracy: number;
}

export interface PolicyUpdater {
  readonly layout: MlpLayout;
  /** Holds a batch for the following minibatch steps (replaces the previous one). */
  load(batch: UpdateBatch): void;
  /** One optimizer step on the rows `rows` of the loaded batch, at learning rate lr. */
  step(rows: Int32Array, coefs: LossCoefs, lr: number): MinibatchStats;
  flatParams(): Float32Array;
  optimizerState(): { step: number; m: Float32Array; v: Float32Array };
  setOptimizerState(state: { step: number; m: Float32Array; v: Float32Array }): void;
  dispose(): void;
}

const MASKED_LOGIT = -1e9;

/** The TensorFlow.js updater: the policy's variables, Adam (torch's eps placement), global-norm clipping. */
export async function createTfUpdater(layout: MlpLayout, params: Float32Array): Promise<PolicyUpdater> {
  const { tf } = await import('./tf.js');
  const { Adam, clipByGlobalNorm, normalizeAdvantages, TfPolicy } = await import('./network.js');
  const policy = new TfPolicy(layout, params);
  const adam = new Adam(policy.variables, 0.9, 0.999, 1e-5);
  const A = layout.actions;
  const D = layout.obsDim;
  let held: Record<string, TF.Tensor> | undefined;
  const release = () => {
    if (held) for (const t of Object.values(held)) t.dispose();
    held = undefined;
  };

  return {
    layout,
    load(batch) {
      release();
      const rows = batch.actions.length;
      const maskBias = new Float32Array(rows * A);
      const maskOne = new Float32Array(rows * A);
      for (let k = 0; k < rows * A; k++) {
        maskOne[k] = batch.allowed[k]!;
        maskBias[k] = batch.allowed[k] ? 0 : MASKED_LOGIT;
      }
      held = {
        obs: tf.tensor2d(batch.obs, [rows, D]),
        maskBias: tf.tensor2d(maskBias, [rows, A]),
        maskOne: tf.tensor2d(maskOne, [rows, A]),
        actions: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(batch.actions, 'int32'), A), 'float32')),
        logProb: tf.tensor1d(batch.logProb),
        adv: tf.tensor1d(batch.advantages),
        returns: tf.tensor1d(batch.returns),
        value: tf.tensor1d(batch.values),
      };
      // one-hot of -1 is a row of zeros: unlabelled rows drop out of the cloning loss
      if (batch.teacher)
        held.teacher = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(batch.teacher!, 'int32'), A), 'float32'));
    },
    step(rows, c, lr) {
      if (!held) throw new Error('PolicyUpdater.step before load');
      const b = held;
      const clone = c.clone > 0 && b.teacher !== undefined;
      const m = tf.tidy(() => {
        const idx = tf.tensor1d(rows, 'int32');
        const mb = {
          obs: tf.gather(b.obs!, idx) as TF.Tensor2D,
          maskBias: tf.gather(b.maskBias!, idx),
          maskOne: tf.gather(b.maskOne!, idx),
          actions: tf.gather(b.actions!, idx),
          logProb: tf.gather(b.logProb!, idx),
          adv: c.normalizeAdvantages
            ? normalizeAdvantages(tf.gather(b.adv!, idx) as TF.Tensor1D)
            : tf.gather(b.adv!, idx),
          returns: tf.gather(b.returns!, idx),
          value: tf.gather(b.value!, idx),
          teacher: clone ? tf.gather(b.teacher!, idx) : undefined,
        };
        const metrics: TF.Tensor[] = [];
        const { value: loss, grads } = tf.variableGrads(() => {
          const out = policy.forward(mb.obs);
          const logp = tf.logSoftmax(tf.add(out.logits, mb.maskBias));
          const newLogProb = tf.sum(tf.mul(logp, mb.actions), 1);
          const entropy = tf.mean(tf.neg(tf.sum(tf.mul(tf.mul(tf.exp(logp), logp), mb.maskOne), 1)));
          const logRatio = tf.sub(newLogProb, mb.logProb);
          const ratio = tf.exp(logRatio);
          // clipped surrogate objective
          const pg1 = tf.mul(tf.neg(mb.adv), ratio);
          const pg2 = tf.mul(tf.neg(mb.adv), tf.clipByValue(ratio, 1 - c.clip, 1 + c.clip));
          const policyLoss = tf.mean(tf.maximum(pg1, pg2));
          // value loss, clipped around the rollout's values as in CleanRL
          const unclipped = tf.square(tf.sub(out.value, mb.returns));
          const valueLoss = c.clipValueLoss
            ? tf.mul(
                tf.mean(
                  tf.maximum(
                    unclipped,
                    tf.square(
                      tf.sub(
                        tf.add(mb.value, tf.clipByValue(tf.sub(out.value, mb.value), -c.clip, c.clip)),
                        mb.returns,
                      ),
                    ),
                  ),
                ),
                0.5,
              )
            : tf.mul(tf.mean(unclipped), 0.5);
          // diagnostics (not differentiated): approx KL (http://joschu.net/blog/kl-approx.html), clip fraction
          metrics.push(
            tf.keep(policyLoss),
            tf.keep(valueLoss),
            tf.keep(entropy),
            tf.keep(tf.mean(tf.sub(tf.sub(ratio, 1), logRatio))),
            tf.keep(tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), c.clip), 'float32'))),
          );
          let total = tf.add(
            tf.sub(tf.mul(policyLoss, c.policy), tf.mul(entropy, c.entropy)),
            tf.mul(valueLoss, c.value),
          );
          if (clone) {
            // cross-entropy to the teacher's action, averaged over the labelled rows
            const labelled = tf.maximum(tf.sum(mb.teacher!), 1);
            const cloneLoss = tf.div(tf.neg(tf.sum(tf.mul(logp, mb.teacher!))), labelled);
            const hits = tf.sum(tf.mul(tf.oneHot(tf.argMax(logp, 1), A), mb.teacher!));
            metrics.push(tf.keep(cloneLoss), tf.keep(tf.div(hits, labelled)));
            total = tf.add(total, tf.mul(cloneLoss, c.clone));
          }
          return total as TF.Scalar;
        }, policy.variables);
        loss.dispose();
        const { clipped, norm } = clipByGlobalNorm(
          policy.variables.map((v) => grads[v.name]!),
          c.maxGradNorm,
        );
        adam.apply(clipped, lr);
        // norm goes sixth, the cloning metrics (when present) after it
        metrics.splice(5, 0, norm);
        return tf.stack(metrics);
      });
      const v = m.dataSync() as Float32Array;
      m.dispose();
      return {
        policyLoss: v[0]!,
        valueLoss: v[1]!,
        entropy: v[2]!,
        approxKl: v[3]!,
        clipFraction: v[4]!,
        gradNorm: v[5]!,
        cloneLoss: clone ? v[6]! : 0,
        cloneAccuracy: clone ? v[7]! : 0,
      };
    },
    flatParams: () => policy.flatParams(),
    optimizerState: () => adam.state(),
    setOptimizerState: (s) => adam.setState(s),
    dispose() {
      release();
      policy.dispose();
      adam.dispose();
    },
  };
}
