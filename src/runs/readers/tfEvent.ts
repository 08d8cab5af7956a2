// Decoding of the few protobuf fields of TensorFlow's Event/Summary messages that carry scalars
// (tensorflow/core/util/event.proto, framework/summary.proto, tensor.proto). Hand-written rather than a
// protobuf library: five messages, a dozen fields, no schema compilation step, no new dependency, and a
// tight loop that allocates only the tag strings.

export interface ScalarValue {
  tag: string;
  value: number;
  /** The plugin named in the value's metadata, if any ("scalars" for tf.summary.scalar). */
  plugin: string | undefined;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  scalars: ScalarValue[];
}

const utf8 = new TextDecoder();
const text = (buf: Uint8Array, s: number, e: number): string =>
  Buffer.isBuffer(buf) ? buf.toString('utf8', s, e) : utf8.decode(buf.subarray(s, e));

class Cursor {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly view: DataView,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    // Up to 10 bytes; values past 2^53 lose precision (steps and lengths never get there).
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result >= 2 ** 63 ? result - 2 ** 64 : result;
      mul *= 128;
    }
    throw new Error('varint too long');
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const len = this.varint(); // read first: `this.pos += this.varint()` would add to the old pos
      this.pos += len;
    } else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('field past end of message');
  }
  lengthDelimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('field past end of message');
    return [start, this.pos];
  }
}

const DT_FLOAT = 1;
const DT_DOUBLE = 2;
const DT_INT32 = 3;
const DT_INT64 = 9;
const DT_BOOL = 10;
const DT_HALF = 19;

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** The single number in a TensorProto, or undefined when it is not one numeric element. */
function tensorScalar(c: Cursor, end: number): number | undefined {
  let dtype = 0;
  let elements = 1;
  const values: number[] = [];
  let content: [number, number] | undefined;
  while (c.pos < end) {
    const key = c.varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 1 && wire === 0) dtype = c.varint();
    else if (field === 2 && wire === 2) {
      // TensorShapeProto: dims (field 2) each with a size (field 1); a scalar has none.
      const [s, e] = c.lengthDelimited();
      const sc = new Cursor(c.buf, c.view, s, e);
      while (sc.pos < e) {
        const k = sc.varint();
        if (k >> 3 === 2 && (k & 7) === 2) {
          const [ds, de] = sc.lengthDelimited();
          const dc = new Cursor(c.buf, c.view, ds, de);
          let size = 1;
          while (dc.pos < de) {
            const dk = dc.varint();
            if (dk >> 3 === 1 && (dk & 7) === 0) size = dc.varint();
            else dc.skip(dk & 7);
          }
          elements *= size;
        } else sc.skip(k & 7);
      }
    } else if (field === 4 && wire === 2) content = c.lengthDelimited();
    else if ((field === 5 || field === 6 || field === 7 || field === 10 || field === 13 || field === 11) && wire === 2) {
      const [s, e] = c.lengthDelimited();
      const pc = new Cursor(c.buf, c.view, s, e);
      while (pc.pos < e) {
        if (field === 5) {
          values.push(c.view.getFloat32(pc.pos, true));
          pc.pos += 4;
        } else if (field === 6) {
          values.push(c.view.getFloat64(pc.pos, true));
          pc.pos += 8;
        } else if (field === 13) values.push(half(pc.varint()));
        else values.push(pc.varint());
      }
    } else if (field === 5 && wire === 5) {
      values.push(c.view.getFloat32(c.pos, true));
      c.pos += 4;
    } else if (field === 6 && wire === 1) {
      values.push(c.view.getFloat64(c.pos, true));
      c.pos += 8;
    } else if ((field === 7 || field === 10 || field === 11 || field === 13) && wire === 0)
      values.push(field === 13 ? half(c.varint()) : c.varint());
    else c.skip(wire);
  }
  if (elements !== 1) return undefined;
  if (content && content[1] > content[0]) {
    const [s, e] = content;
    if (dtype === DT_FLOAT && e - s === 4) return c.view.getFloat32(s, true);
    if (dtype === DT_DOUBLE && e - s === 8) return c.view.getFloat64(s, true);
    if (dtype === DT_INT32 && e - s === 4) return c.view.getInt32(s, true);
    if (dtype === DT_INT64 && e - s === 8) return Number(c.view.getBigInt64(s, true));
    if (dtype === DT_HALF && e - s === 2) return half(c.view.getUint16(s, true));
    return undefined;
  }
  if (![DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_HALF, DT_BOOL].includes(dtype)) return undefined;
  return values.length === 1 ? values[0] : undefined;
}

function pluginName(c: Cursor, end: number): string | undefined {
  let name: string | undefined;
  while (c.pos < end) {
    const key = c.varint();
    if (key >> 3 === 1 && (key & 7) === 2) {
      const [s, e] = c.lengthDelimited();
      const pc = new Cursor(c.buf, c.view, s, e);
      while (pc.pos < e) {
        const k = pc.varint();
        if (k >> 3 === 1 && (k & 7) === 2) {
          const [ns, ne] = pc.lengthDelimited();
          name = text(c.buf, ns, ne);
        } else pc.skip(k & 7);
      }
    } else c.skip(key & 7);
  }
  return name;
}

function summaryValue(c: Cursor, end: number, out: ScalarValue[]): void {
  let tag = '';
  let simple: number | undefined;
  let tensor: number | undefined;
  let plugin: string | undefined;
  while (c.pos < end) {
    const key = c.varint();
    const field = key >> 3;
    const wire = key & 7;
    if (field === 1 && wire === 2) {
      const [s, e] = c.lengthDelimited();
      tag = text(c.buf, s, e);
    } else if (field === 2 && wire === 5) {
      simple = c.view.getFloat32(c.pos, true);
      c.pos += 4;
    } else if (field === 8 && wire === 2) {
      const [s, e] = c.lengthDelimited();
      tensor = tensorScalar(new Cursor(c.buf, c.view, s, e), e);
    } else if (field === 9 && wire === 2) {
      const [s, e] = c.lengthDelimited();
      plugin = pluginName(new Cursor(c.buf, c.view, s, e), e);
    } else c.skip(wire);
  }
  const value = simple ?? tensor;
  if (value !== undefined) out.push({ tag, value, plugin });
}

/** Decodes one Event record; scalars only (graphs, images, histograms are skipped). Throws on malformed
 * bytes. `into` is reused between records (its scalars are overwritten), so the hot loop allocates little. */
export function decodeEvent(
  buf: Uint8Array,
  start: number,
  end: number,
  view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength),
  into: DecodedEvent = { wallTime: 0, step: 0, scalars: [] },
): DecodedEvent {
  const c = new Cursor(buf, view, start, end);
  const ev = into;
  ev.wallTime = 0;
  ev.step = 0;
  ev.scalars.length = 0;
  while (c.pos < end) {
    const key = c.varint();
    const field = key >> 3;
    const wire = key & 7;
    if (field === 1 && wire === 1) {
      ev.wallTime = view.getFloat64(c.pos, true);
      c.pos += 8;
    } else if (field === 2 && wire === 0) ev.step = c.varint();
    else if (field === 5 && wire === 2) {
      const [s, e] = c.lengthDelimited();
      const sc = new Cursor(buf, view, s, e);
      while (sc.pos < e) {
        const k = sc.varint();
        if (k >> 3 === 1 && (k & 7) === 2) {
          const [vs, ve] = sc.lengthDelimited();
          summaryValue(new Cursor(buf, view, vs, ve), ve, ev.scalars);
        } else sc.skip(k & 7);
      }
    } else c.skip(wire);
  }
  return ev;
}
