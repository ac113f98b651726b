// augment.wgsl: per-sample rotation, flip, zoom, translation, brightness, contrast and random
// erasing on a batch of 48x48 single-channel float images, in one dispatch.
// Wrapper: packages/gpu/src/augment.ts. Reference: packages/gpu/src/augment-reference.ts.
// Parameters: packages/gpu/src/augment-params.ts (drawn per sample from a seed, on the CPU).
//
// Bindings (group 0)
//   0  images  : array<f32>     storage, read    N x 48 x 48 (NHWC, C = 1), values in [0, 1]:
//                                               images[n * 2304 + y * 48 + x]
//   1  samples : array<Sample>  storage, read    one 64-byte record per image; N = arrayLength
//   2  out     : array<f32>     storage, write   same layout as `images`
//
//   Sample (64 B)  m vec4<f32> = (a, b, c, d), t vec2<f32> = (tx, ty), gain f32, offset f32:
//                  the inverse affine map of the sample, from inverseMapping() in TS;
//                  erase vec4<f32> = (x0, y0, x1, y1), fill f32, 12 B padding: the erased
//                  rectangle and its grey, from eraseBox() in TS (x0 = x1 = 0 where none).
//
// Math, for output pixel (x, y), pixel centres at integer coordinates:
//   (u, v) = (a x + b y + tx, c x + d y + ty)      where in the input the pixel comes from
//   s = bilinear(images[n], u, v), taps clamped to [0, 47] (edge-clamp: outside the picture
//       repeats its border rather than bringing in black or a mirrored face)
//   out = clamp(s * gain + offset, 0, 1)           (gain = contrast, offset = 0.5 (1 - contrast)
//                                                   + brightness: contrast about mid-grey)
//   out = fill where x0 <= x < x1 and y0 <= y < y1  (random erasing, last)
//
// Dispatch: (ceil(2304 / 64), N, 1) workgroups of 64, one invocation per output pixel.
// Safety: reads are clamped to arrayLength(&images) - 1.
//
// Bytes moved (ideal caching): reads 4 * 2304 B per image + 64 B per sample, writes 4 * 2304 B
// per image. (augmentBytesMoved() computes these for a batch.)

struct Sample {
  m: vec4<f32>,
  t: vec2<f32>,
  gain: f32,
  offset: f32,
  erase: vec4<f32>,
  fill: f32,
}

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(0) @binding(1) var<storage, read> samples: array<Sample>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const SIDE: u32 = 48u;

fn pixel(base: u32, x: i32, y: i32) -> f32 {
  let cx = u32(clamp(x, 0, i32(SIDE) - 1));
  let cy = u32(clamp(y, 0, i32(SIDE) - 1));
  return images[min(base + cy * SIDE + cx, arrayLength(&images) - 1u)];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  let n = gid.y;
  if (p >= SIDE * SIDE || n >= arrayLength(&samples)) {
    return;
  }
  let s = samples[n];
  let x = f32(p % SIDE);
  let y = f32(p / SIDE);
  let u = s.m.x * x + s.m.y * y + s.t.x;
  let v = s.m.z * x + s.m.w * y + s.t.y;

  let x0 = i32(floor(u));
  let y0 = i32(floor(v));
  let fx = u - floor(u);
  let fy = v - floor(v);
  let base = n * SIDE * SIDE;
  let top = pixel(base, x0, y0) * (1.0 - fx) + pixel(base, x0 + 1, y0) * fx;
  let bottom = pixel(base, x0, y0 + 1) * (1.0 - fx) + pixel(base, x0 + 1, y0 + 1) * fx;
  let value = top * (1.0 - fy) + bottom * fy;
  let erased = x >= s.erase.x && x < s.erase.z && y >= s.erase.y && y < s.erase.w;
  out[base + p] = select(clamp(value * s.gain + s.offset, 0.0, 1.0), s.fill, erased);
}
