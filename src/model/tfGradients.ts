import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradients of the kernels the model and losses use. tfjs-core ships its gradient table only as
 * ES modules with extension-less imports, which Node cannot load, and the bundled entry point
 * registers none; so the few we need are written here. A kernel that already has a gradient
 * (tfjs-node brings the full table) is left alone.
 */
type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Record<string, unknown>) => Record<string, () => tf.Tensor>;

interface Config {
  kernelName: string;
  inputsToSave?: string[];
  outputsToSave?: boolean[];
  gradFunc: GradFunc;
}

/** Sums a broadcast gradient back down to the shape of the input it came from. */
function unbroadcast(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return axes.length > 0 ? tf.reshape(tf.sum(dy, axes), shape) : dy;
}

const CONFIGS: Config[] = [
  {
    kernelName: 'Add',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a.shape), b: () => unbroadcast(dy, b.shape) }),
  },
  {
    kernelName: 'Sub',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => unbroadcast(dy, a.shape), b: () => unbroadcast(tf.neg(dy), b.shape) }),
  },
  {
    kernelName: 'Multiply',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, b), a.shape),
      b: () => unbroadcast(tf.mul(dy, a), b.shape),
    }),
  },
  {
    kernelName: 'RealDiv',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.div(dy, b), a.shape),
      b: () => unbroadcast(tf.neg(tf.div(tf.mul(dy, a), tf.square(b))), b.shape),
    }),
  },
  {
    kernelName: 'Maximum',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => unbroadcast(tf.mul(dy, tf.cast(tf.greaterEqual(a, b), 'float32')), a.shape),
      b: () => unbroadcast(tf.mul(dy, tf.cast(tf.less(a, b), 'float32')), b.shape),
    }),
  },
  { kernelName: 'Neg', gradFunc: (dy) => ({ x: () => tf.neg(dy) }) },
  // tf.where copies inputs of the same shape through Identity.
  { kernelName: 'Identity', gradFunc: (dy) => ({ x: () => dy }) },
  {
    kernelName: 'Select',
    inputsToSave: ['condition'],
    gradFunc: (dy, [condition]) => ({
      condition: () => tf.zeros(condition.shape),
      t: () => tf.mul(dy, tf.cast(condition, 'float32')),
      e: () => tf.mul(dy, tf.cast(tf.logicalNot(condition), 'float32')),
    }),
  },
  // A comparison is piecewise constant: no gradient flows through the condition of a where().
  {
    kernelName: 'Less',
    inputsToSave: ['a', 'b'],
    gradFunc: (_dy, [a, b]) => ({ a: () => tf.zeros(a.shape), b: () => tf.zeros(b.shape) }),
  },
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const keptShape = x.shape.slice();
      for (const axis of tf.util.parseAxisParam(attrs.axis as number | number[], x.shape)) keptShape[axis] = 1;
      return { x: () => tf.broadcastTo(tf.reshape(dy, keptShape), x.shape) };
    },
  },
  { kernelName: 'Reshape', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(dy, x.shape) }) },
  { kernelName: 'Exp', outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, y) }) },
  { kernelName: 'Expm1', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.exp(x)) }) },
  { kernelName: 'Log', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy, x) }) },
  { kernelName: 'Log1p', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy, tf.add(x, 1)) }) },
  { kernelName: 'Square', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x, 2)) }) },
  { kernelName: 'Sqrt', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.div(dy, tf.mul(tf.sqrt(x), 2)) }) },
  {
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.cast(tf.greater(x, 0), 'float32')) }),
  },
  {
    kernelName: 'Sigmoid',
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(y, tf.sub(1, y))) }),
  },
  { kernelName: 'Softplus', inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.sigmoid(x)) }) },
  {
    // d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
    kernelName: 'Erf',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(tf.exp(tf.neg(tf.square(x))), 2 / Math.sqrt(Math.PI))) }),
  },
  {
    kernelName: 'ClipByValue',
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => {
      const inside = tf.logicalAnd(
        tf.greaterEqual(x, attrs.clipValueMin as number),
        tf.lessEqual(x, attrs.clipValueMax as number),
      );
      return { x: () => tf.mul(dy, tf.cast(inside, 'float32')) };
    },
  },
];

let registered = false;

export function registerGradients(): void {
  if (registered) return;
  for (const config of CONFIGS) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config as unknown as tf.GradConfig);
  }
  registered = true;
}

/**
 * log(sigmoid(x)) = -softplus(-x), through registered kernels. (tf.logSigmoid's own gradient
 * reads its input from a closure that tf.tidy may already have freed.)
 */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(tf.softplus(tf.neg(x)));
}

/** log(exp(a) + exp(b)), without overflow or underflow. */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const m = tf.maximum(a, b);
  return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(a, m)), tf.exp(tf.sub(b, m)))));
}
