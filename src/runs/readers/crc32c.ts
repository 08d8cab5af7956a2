// CRC-32C (Castagnoli), as TFRecord framing uses it, with TensorFlow's masking. Slicing-by-4 tables:
// event files are checksummed byte for byte, so this is the reader's hot loop.
const POLY = 0x82f63b78;
const T = Array.from({ length: 4 }, () => new Uint32Array(256));
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[0][i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 4; t++) T[t][i] = (T[t - 1][i] >>> 8) ^ T[0][T[t - 1][i] & 0xff];
}
const [T0, T1, T2, T3] = T;

export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = T3[c & 0xff] ^ T2[(c >>> 8) & 0xff] ^ T1[(c >>> 16) & 0xff] ^ T0[c >>> 24];
  }
  for (; i < end; i++) c = T0[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so CRCs of CRCs stay well spread. */
export function maskedCrc32c(buf: Uint8Array, start?: number, end?: number): number {
  const c = crc32c(buf, start, end);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
