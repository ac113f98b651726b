// preprocess.wgsl: a batch of RGBA8 face crops of any sizes → one float32 tensor [N, 48, 48, 1].
// Wrapper: packages/gpu/src/preprocess.ts. Reference: packages/gpu/src/preprocess-reference.ts.
//
// Bindings (group 0)
//   0  pixels : array<u32>   storage, read    every crop's RGBA8 pixels, one u32 per pixel
//                                            (R in the low byte), rows of `stride` pixels,
//                                            crops packed back to back
//   1  crops  : array<Crop>  storage, read    one 32-byte record per crop; N = arrayLength
//   2  params : Params       uniform          16 bytes
//   3  out    : array<f32>   storage, write   NHWC, C = 1: out[n * 2304 + y * 48 + x]
//
//   Crop (32 B)   offset u32  index in `pixels` of the crop's pixel (0, 0)
//                 width, height, stride u32  (stride = pixels per row, >= width)
//                 rect vec4<f32>  x, y, w, h: the source rectangle in crop pixels, fractional
//                 allowed, inside [0, width] x [0, height], w and h > 0 (the wrapper checks)
//   Params (16 B) scale f32, bias f32, 2 x pad: out = luma * scale + bias
//                 (scale = 1 / std, bias = -mean / std; 1 and 0 leave luma in [0, 1])
//
// Math, per axis (x shown, y alike); s = rect.w / 48 source pixels per output pixel o:
//   s > 1, shrinking: box filter over the exact footprint [x0, x1) = rect.x + [o, o + 1) * s,
//     v = sum_i w_i p_i / sum_i w_i with w_i = |[i, i + 1) ∩ [x0, x1)|: every source pixel
//     counts by the area it covers, edge pixels fractionally, so nothing aliases.
//   s <= 1, enlarging: bilinear at the output pixel's centre c = rect.x + (o + 0.5) * s - 0.5,
//     taps floor(c) and floor(c) + 1, clamped to the pixels the rectangle covers.
//   2-D weights are products of the axis weights; luma = 0.299 R + 0.587 G + 0.114 B (BT.601)
//   on R, G, B / 255; alpha is ignored.
//
// Dispatch: (ceil(2304 / 64), N, 1) workgroups of 64, one invocation per output pixel:
// one dispatch per batch whatever N and the crop sizes.
// Safety: every pixel index is clamped to arrayLength(&pixels) - 1 and the tap loops are bounded
// by MAX_TAPS, so wrong metadata gives wrong numbers, never an out-of-bounds read or a hang.
//
// Bytes moved (ideal caching): reads 4 B per source pixel the rectangles cover + 32 B per crop,
// writes 4 * 2304 = 9216 B per crop. Upload from the host: 4 * stride * height B per crop + 32 B
// per crop + 16 B. (preprocessBytesMoved() computes these for a batch.)

// Taps per axis at the largest shrink: ceil(MAX_CROP_SIDE / 48) + 1; set by the wrapper.
override MAX_TAPS: i32 = 24;

struct Crop {
  offset: u32,
  width: u32,
  height: u32,
  stride: u32,
  rect: vec4<f32>,
}

struct Params {
  scale: f32,
  bias: f32,
}

@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> crops: array<Crop>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const SIDE: u32 = 48u;

// The taps of one output pixel along one axis.
struct Axis {
  first: i32,  // first tap (source pixel index, before clamping)
  last: i32,   // last tap, inclusive
  lo: f32,     // box: footprint [lo, hi)
  hi: f32,
  frac: f32,   // bilinear: weight of tap `last`
  box: bool,
  pmin: i32,   // pixels the rectangle covers: taps are clamped to [pmin, pmax]
  pmax: i32,
}

fn axis(o: u32, start: f32, len: f32, size: u32) -> Axis {
  let s = len / f32(SIDE);
  var a: Axis;
  a.pmin = i32(floor(start));
  a.pmax = min(i32(ceil(start + len)), i32(size)) - 1;
  a.box = s > 1.0;
  if (a.box) {
    a.lo = start + f32(o) * s;
    a.hi = min(start + f32(o + 1u) * s, start + len);
    a.first = i32(floor(a.lo));
    a.last = min(i32(ceil(a.hi)) - 1, a.first + MAX_TAPS - 1);
  } else {
    let c = start + (f32(o) + 0.5) * s - 0.5;
    a.first = i32(floor(c));
    a.last = a.first + 1;
    a.frac = c - floor(c);
  }
  return a;
}

fn weight(a: Axis, i: i32) -> f32 {
  if (a.box) {
    return min(f32(i + 1), a.hi) - max(f32(i), a.lo);
  }
  return select(a.frac, 1.0 - a.frac, i == a.first);
}

fn tap(a: Axis, i: i32) -> u32 {
  return u32(clamp(i, a.pmin, max(a.pmin, a.pmax)));
}

fn luma(px: u32) -> f32 {
  let c = unpack4x8unorm(px);
  return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  let n = gid.y;
  if (p >= SIDE * SIDE || n >= arrayLength(&crops)) {
    return;
  }
  let crop = crops[n];
  let ax = axis(p % SIDE, crop.rect.x, crop.rect.z, crop.width);
  let ay = axis(p / SIDE, crop.rect.y, crop.rect.w, crop.height);
  let lastPixel = arrayLength(&pixels) - 1u;

  var sum = 0.0;
  var total = 0.0;
  for (var j = ay.first; j <= ay.last; j++) {
    let wy = weight(ay, j);
    let row = crop.offset + tap(ay, j) * crop.stride;
    for (var i = ax.first; i <= ax.last; i++) {
      let w = wy * weight(ax, i);
      sum += w * luma(pixels[min(row + tap(ax, i), lastPixel)]);
      total += w;
    }
  }
  let value = select(0.0, sum / total, total > 0.0);
  out[n * SIDE * SIDE + p] = value * params.scale + params.bias;
}
