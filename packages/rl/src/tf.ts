// TensorFlow.js set-up: the backend (tfjs-node when the user installed it, else WebAssembly, else plain CPU) and the
// gradients of the kernels PPO differentiates through.
//
// Why gradients are registered here: tfjs-core's Node build registers no gradients (the `@tensorflow/tfjs` bundle
// does, at ~300 MB of installs with WebGL, layers, converter and data), and its ESM gradient modules cannot be
// imported by Node. PPO's loss needs only the few kernels below; test/tf.test.ts checks each against finite
// differences. A gradient already registered (tfjs-node loads the full set) is left alone.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';

import { BACKENDS, type BackendName } from './backends.js';

let chosen: BackendName | undefined;

/**
 * Selects the fastest available backend once per process: `tensorflow` (the native library of
 * `@tensorflow/tfjs-node`, if installed), else `wasm`, else `cpu`; `prefer` forces one (falling back the same way
 * if it is unavailable). Returns the backend in use.
 */
export async function initTf(prefer?: BackendName): Promise<BackendName> {
  if (chosen && (prefer === undefined || prefer === chosen)) return chosen;
  // tfjs prints a banner suggesting tfjs-node on the CPU backend's first use unless PROD is set
  tf.env().set('PROD', true);
  const order = prefer ? [prefer, ...BACKENDS.filter((b) => b !== prefer)] : BACKENDS;
  for (const name of order) {
    if (await tryBackend(name)) {
      chosen = name;
      registerGradients();
      return name;
    }
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

async function tryBackend(name: BackendName): Promise<boolean> {
  try {
    if (name === 'tensorflow') {
      // optional: not a dependency (its install downloads a native library that some machines cannot reach)
      const optional = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ optional);
    }
    if (name === 'wasm') {
      // the .wasm binaries sit next to the package's Node entry point
      const require = createRequire(import.meta.url);
      const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
      setWasmPaths(`${dir}${path.sep}`);
    }
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

type Grad = (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>;

/** dy summed over the axes along which `shape` was broadcast, reshaped to `shape`. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

const GRADIENTS: Record<string, { grad: Grad; inputsToSave?: string[]; outputsToSave?: boolean[] }> = {
  [tf.Add]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(dy, b!.shape) }),
  },
  [tf.Sub]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a!.shape), b: () => unbroadcast(tf.neg(dy), b!.shape) }),
  },
  [tf.Multiply]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, b!), a!.shape),
      b: () => unbroadcast(tf.mul(dy, a!), b!.shape),
    }),
  },
  [tf.RealDiv]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b!), a!.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a!), tf.square(b!))), b!.shape),
    }),
  },
  [tf.Neg]: { grad: (dy) => ({ x: () => tf.neg(dy) }) },
  [tf.Square]: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x!, 2)) }) },
  [tf.Exp]: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.mul(dy, y!) }) },
  [tf.Log]: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.div(dy, x!) }) },
  [tf.Tanh]: { outputsToSave: [true], grad: (dy, [y]) => ({ x: () => tf.mul(dy, tf.sub(1, tf.square(y!))) }) },
  [tf.Relu]: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.mul(dy, tf.step(x!)) }) },
  // the larger input gets the gradient, ties to `a` (as tfjs and torch do)
  [tf.Maximum]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(tf.greaterEqual(a!, b!), 'float32')), a!.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(tf.less(a!, b!), 'float32')), b!.shape),
    }),
  },
  [tf.Minimum]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(tf.lessEqual(a!, b!), 'float32')), a!.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(tf.greater(a!, b!), 'float32')), b!.shape),
    }),
  },
  [tf.ClipByValue]: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => ({
      x: () =>
        tf.where(
          tf.logicalAnd(
            tf.greaterEqual(x!, attrs.clipValueMin as number),
            tf.lessEqual(x!, attrs.clipValueMax as number),
          ),
          dy,
          tf.zerosLike(dy),
        ),
    }),
  },
  [tf.Sum]: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => ({
      x: () => tf.mul(keptDims(dy, x!.shape, attrs.axis as number | number[]), tf.onesLike(x!)),
    }),
  },
  [tf.Mean]: {
    inputsToSave: ['x'],
    grad: (dy, [x], attrs) => {
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x!.shape);
      const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
      return {
        x: () => tf.div(tf.mul(keptDims(dy, x!.shape, attrs.axis as number | number[]), tf.onesLike(x!)), count),
      };
    },
  },
  [tf.Reshape]: { inputsToSave: ['x'], grad: (dy, [x]) => ({ x: () => tf.reshape(dy, x!.shape) }) },
  [tf.BatchMatMul]: {
    inputsToSave: ['a', 'b'],
    grad: (dy, [a, b], attrs) => {
      if (attrs.transposeA || attrs.transposeB || a!.rank !== 2 || b!.rank !== 2)
        throw new Error('BatchMatMul gradient: only plain 2-D products are registered');
      return { a: () => tf.matMul(dy, b!, false, true), b: () => tf.matMul(a!, dy, true, false) };
    },
  },
};

/** dy of a reduction over `axis` reshaped so that it broadcasts back over the input's shape. */
function keptDims(dy: tf.Tensor, shape: number[], axis: number | number[]): tf.Tensor {
  const axes = tf.util.parseAxisParam(axis, shape);
  const kept = shape.map((n, i) => (axes.includes(i) ? 1 : n));
  return tf.reshape(dy, kept);
}

let registered = false;

/** Registers the gradients PPO needs (once; those already present are kept). */
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, g] of Object.entries(GRADIENTS)) {
    if (tf.getGradient(kernelName) !== undefined) continue;
    tf.registerGradient({
      kernelName,
      ...(g.inputsToSave ? { inputsToSave: g.inputsToSave } : {}),
      ...(g.outputsToSave ? { outputsToSave: g.outputsToSave } : {}),
      gradFunc: g.grad as unknown as tf.GradConfig['gradFunc'],
    });
  }
}

export { tf };
