// Collects images one at a time for a split whose size is not known up front (streamed CSV
// rows, decoded files), without holding one small array per image.
import { IMAGE_BYTES } from './format.ts';
import type { SplitData } from './writer.ts';

export class SplitBuilder {
  private pixels = new Uint8Array(IMAGE_BYTES * 1024);
  private labels = new Uint8Array(1024);
  private readonly names: string[] = [];

  constructor(readonly split: string) {}

  get n(): number {
    return this.names.length;
  }

  add(pixels: Uint8Array, label: number, name: string): void {
    if (pixels.length !== IMAGE_BYTES)
      throw new RangeError(`an image is ${IMAGE_BYTES} bytes, got ${pixels.length}`);
    const i = this.n;
    if (i === this.labels.length) this.grow();
    this.pixels.set(pixels, i * IMAGE_BYTES);
    this.labels[i] = label;
    this.names.push(name);
  }

  /** The collected images, trimmed to size (views share memory with the builder). */
  build(): SplitData {
    return {
      split: this.split,
      pixels: this.pixels.subarray(0, this.n * IMAGE_BYTES),
      labels: this.labels.subarray(0, this.n),
      names: this.names,
    };
  }

  private grow(): void {
    const pixels = new Uint8Array(this.pixels.length * 2);
    pixels.set(this.pixels);
    const labels = new Uint8Array(this.labels.length * 2);
    labels.set(this.labels);
    this.pixels = pixels;
    this.labels = labels;
  }
}
