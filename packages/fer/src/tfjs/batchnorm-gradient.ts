// A FusedBatchNorm gradient without tfjs-core's `tile`.
//
// tfjs-core 4.22's gradient materialises 1/sqrt(var+eps) tiled to the full [N,H,W,C]
// shape before multiplying, although broadcasting gives the same result. On wasm that
// tile was the single most expensive kernel of a CNN training step (~20% of it). This
// config is the same math with broadcasting; a test checks it against the original.
import * as tf from './tf.ts';

export function fusedBatchNormGradConfig(): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const [x, mean, variance, scale] = saved;
      const g = dy as tf.Tensor;
      const scaleValue = scale == null ? tf.scalar(1) : scale;
      const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
      const perChannel = mean.rank === 1;
      const reduce = (t: tf.Tensor) => tf.reshape(perChannel ? tf.sum(t, reductionAxes) : t, mean.shape);
      const xMinusMean = tf.sub(x, mean);
      const dyTimesScale = tf.mul(g, scaleValue);
      const invStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
      const minusHalfInvStdCubed = tf.mul(tf.mul(tf.mul(invStd, invStd), invStd), tf.scalar(-0.5));
      return {
        x: () => tf.reshape(tf.mul(tf.mul(g, invStd), scaleValue), x.shape),
        mean: () => reduce(tf.mul(tf.neg(invStd), dyTimesScale)),
        variance: () => reduce(tf.mul(tf.mul(minusHalfInvStdCubed, xMinusMean), dyTimesScale)),
        scale: () => reduce(tf.mul(g, tf.mul(xMinusMean, invStd))),
        offset: () => reduce(g),
      };
    },
  };
}

export function registerFastBatchNormGradient(): void {
  tf.registerGradient(fusedBatchNormGradConfig());
}
