// Images → pixel_values as the trainer's codec makes them (PIL: convert("RGB"), resize with
// BICUBIC, /255, CLIP mean/std, CHW float32). The resize follows Pillow's own algorithm
// (Resample.c: separable passes, support scaled when downsampling, 22-bit fixed-point
// coefficients, rounding and clipping to 8 bits after each pass) so the pixels match PIL's, not
// merely look alike; a same-size "resize" is the identity, as in PIL.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { ImageSpec } from './modelSpec';
import { ScoringError } from './modelSpec';

export interface RgbImage {
  width: number;
  height: number;
  /** width × height × 3, row-major. */
  data: Uint8Array;
}

/** Decodes a PNG to 8-bit RGB as PIL's convert("RGB") does (alpha dropped, 16-bit → high byte). */
export function decodePng(bytes: Uint8Array, file: string): RgbImage {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (png.depth === 16) png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (err) {
    throw new ScoringError(`${file}: cannot read the image: ${(err as Error).message}`, file);
  }
  const { width, height } = png;
  const src = png.data as unknown as ArrayLike<number>;
  const shift = png.depth === 16 ? 8 : 0;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < data.length; i += 4, j += 3) {
    data[j] = src[i] >> shift;
    data[j + 1] = src[i + 1] >> shift;
    data[j + 2] = src[i + 2] >> shift;
  }
  return { width, height, data };
}

export function readImage(file: string): RgbImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new ScoringError(`${file}: cannot read the image: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, file);
  }
  return decodePng(bytes, file);
}

const PRECISION_BITS = 32 - 8 - 2;

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  ksize: number;
  bounds: Int32Array; // per output pixel: first input index, count
  k: Int32Array; // fixed-point weights, ksize per output pixel
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    // C's (int) truncates toward zero; the operands are ≥ -support + 0.5 here, as in Pillow.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) * ss);
      sum += w[x];
    }
    for (let x = 0; x < xmax; x++) {
      const v = sum !== 0 ? w[x] / sum : w[x];
      k[xx * ksize + x] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, k };
}

function clip8(v: number): number {
  if (v >= 2 ** (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return Math.floor(v / 2 ** PRECISION_BITS);
}

// Sums stay below 2^53 (255 × 2^22 × ksize), so doubles hold them exactly like Pillow's int32/64.
function horizontal(src: RgbImage, outWidth: number, rowFirst: number, rows: number): RgbImage {
  const c = coefficients(src.width, outWidth);
  const out = new Uint8Array(outWidth * rows * 3);
  for (let y = 0; y < rows; y++) {
    const rowIn = (y + rowFirst) * src.width * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = c.bounds[xx * 2];
      const n = c.bounds[xx * 2 + 1];
      const base = xx * c.ksize;
      for (let ch = 0; ch < 3; ch++) {
        let s = 2 ** (PRECISION_BITS - 1);
        for (let x = 0; x < n; x++) s += src.data[rowIn + (x + xmin) * 3 + ch] * c.k[base + x];
        out[(y * outWidth + xx) * 3 + ch] = clip8(s);
      }
    }
  }
  return { width: outWidth, height: rows, data: out };
}

function vertical(src: RgbImage, outHeight: number, c: Coefficients, rowOffset: number): RgbImage {
  const w = src.width;
  const out = new Uint8Array(w * outHeight * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = c.bounds[yy * 2] - rowOffset;
    const n = c.bounds[yy * 2 + 1];
    const base = yy * c.ksize;
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < 3; ch++) {
        let s = 2 ** (PRECISION_BITS - 1);
        for (let y = 0; y < n; y++) s += src.data[((y + ymin) * w + x) * 3 + ch] * c.k[base + y];
        out[(yy * w + x) * 3 + ch] = clip8(s);
      }
    }
  }
  return { width: w, height: outHeight, data: out };
}

/** PIL's Image.resize((width, height), Image.Resampling.BICUBIC) for an 8-bit RGB image. */
export function resizeBicubic(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const needH = width !== img.width;
  const needV = height !== img.height;
  const vc = coefficients(img.height, height);
  // Only the input rows the vertical pass reads go through the horizontal pass (as Pillow does).
  const first = vc.bounds[0];
  const last = vc.bounds[height * 2 - 2] + vc.bounds[height * 2 - 1];
  let out = img;
  let offset = 0;
  if (needH) {
    out = needV ? horizontal(img, width, first, last - first) : horizontal(img, width, 0, img.height);
    offset = needV ? first : 0;
  }
  if (needV) out = vertical(out, height, vc, offset);
  return out;
}

function targetSize(spec: ImageSpec, file: string): { width: number; height: number } {
  if (spec.crop) throw new ScoringError(`${file}: image.crop is not supported by the Node scorer (only a plain resize)`, file);
  const r = spec.resize;
  if (Array.isArray(r) && r.length === 2) return { width: r[0], height: r[1] };
  if (r && typeof r === 'object' && 'height' in r && 'width' in r) return { width: r.width, height: r.height };
  throw new ScoringError(`${file}: image.resize ${JSON.stringify(r)} is not supported by the Node scorer (expected [width, height])`, file);
}

/** The spec's pixel_values for one image: float32, CHW, written into `out` at `offset`. */
export function pixelValues(img: RgbImage, spec: ImageSpec, specFile: string, out: Float32Array, offset: number): void {
  if (!/bicubic|^3$/i.test(String(spec.resample)))
    throw new ScoringError(`${specFile}: image.resample ${spec.resample} is not supported (bicubic only)`, specFile);
  const { width, height } = targetSize(spec, specFile);
  const sized = resizeBicubic(img, width, height);
  // The trainer divides by 255 (float32); keep that exact operation when rescale is 1/255.
  const divisor = Math.abs(1 / spec.rescale - Math.round(1 / spec.rescale)) < 1e-6 ? Math.round(1 / spec.rescale) : 0;
  const plane = width * height;
  for (let ch = 0; ch < 3; ch++) {
    const mean = Math.fround(spec.mean[ch]);
    const std = Math.fround(spec.std[ch]);
    for (let p = 0; p < plane; p++) {
      const v = sized.data[p * 3 + ch];
      const x = divisor ? Math.fround(v / divisor) : Math.fround(v * spec.rescale);
      out[offset + ch * plane + p] = Math.fround(Math.fround(x - mean) / std);
    }
  }
}

export function pixelCount(spec: ImageSpec, specFile: string): number {
  const { width, height } = targetSize(spec, specFile);
  return 3 * width * height;
}
