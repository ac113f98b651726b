// The one place the fer package gets TensorFlow.js from. tfjs-core alone registers no
// gradients; tfjs-layers registers them on import. The union package `@tensorflow/tfjs`
// would pull in the WebGL backend, which Node cannot use, so the pieces come from here.
// Use functional ops (tf.reshape(x)), not chained ones (x.reshape()): chained ops are
// not registered in Node's CommonJS bundles.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';

export * from '@tensorflow/tfjs-core';
