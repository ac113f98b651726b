// Multiply-accumulate counts per image, from the layer configs: the numbers the report
// and the benchmarks compare against. Counts convolutions and dense layers, which are
// >97% of the work in all four architectures; elementwise ops are ignored.
import type { LayersModel } from '@tensorflow/tfjs-layers';

type Shape = (number | null)[];

function lastShape(s: Shape | Shape[]): Shape {
  return Array.isArray(s[0]) ? (s as Shape[])[0] : (s as Shape);
}

export function countMacs(model: LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = lastShape(layer.outputShape as Shape | Shape[]);
    const inp = lastShape(
      layer.inputSpec ? (layer as unknown as { input: { shape: Shape } }).input.shape : [],
    );
    if (cls === 'Conv2D') {
      const cfg = layer.getConfig() as { kernelSize: number[] };
      const [kh, kw] = cfg.kernelSize;
      const cin = inp[inp.length - 1] as number;
      macs += (out[1] as number) * (out[2] as number) * (out[3] as number) * kh * kw * cin;
    } else if (cls === 'DepthwiseConv2D') {
      const cfg = layer.getConfig() as { kernelSize: number[] };
      const [kh, kw] = cfg.kernelSize;
      macs += (out[1] as number) * (out[2] as number) * (out[3] as number) * kh * kw;
    } else if (cls === 'Dense') {
      const cin = inp[inp.length - 1] as number;
      macs += cin * (out[out.length - 1] as number);
    }
  }
  return macs;
}
