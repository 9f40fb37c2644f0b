import { SourceReadError, type ByteSource } from '@brine/bytes';

/**
 * ONNX ModelProto recognition: the whole file must parse as protobuf wire format with a plausible ir_version
 * (field 1), a graph (7) and opset imports (8). Only tags and lengths are read; large fields are skipped.
 * External-data locations in the graph's initializers are checked for path traversal.
 */

export interface OnnxInfo {
  irVersion: number;
  producer: string | null;
  producerVersion: string | null;
  opsets: Array<{ domain: string; version: number }>;
  externalData: string[];
}

class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  constructor(
    private readonly src: ByteSource,
    public pos: number,
    readonly end: number,
  ) {}

  async byte(): Promise<number> {
    if (this.pos < this.bufStart || this.pos >= this.bufStart + this.buf.length) {
      this.bufStart = this.pos;
      this.buf = await this.src.read(this.pos, Math.min(64 * 1024, this.end - this.pos));
      if (this.buf.length === 0) throw new Error('eof');
    }
    return this.buf[this.pos++ - this.bufStart];
  }

  async varint(): Promise<number> {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = await this.byte();
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 128;
    }
    throw new Error('varint too long');
  }

  async bytes(n: number): Promise<Uint8Array> {
    const out = await this.src.read(this.pos, n);
    this.pos += n;
    return out;
  }
}

interface Field {
  num: number;
  wire: number;
  value: number;
  start: number;
  len: number;
}

async function fields(
  src: ByteSource,
  start: number,
  end: number,
  visit: (f: Field, c: Cursor) => Promise<void>,
): Promise<boolean> {
  const c = new Cursor(src, start, end);
  while (c.pos < end) {
    const tag = await c.varint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    if (num === 0) return false;
    if (wire === 0) {
      const v = await c.varint();
      await visit({ num, wire, value: v, start: c.pos, len: 0 }, c);
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (c.pos + n > end) return false;
      c.pos += n;
    } else if (wire === 2) {
      const len = await c.varint();
      if (c.pos + len > end) return false;
      const s = c.pos;
      await visit({ num, wire, value: 0, start: s, len }, c);
      c.pos = s + len;
    } else return false;
  }
  return c.pos === end;
}

async function text(src: ByteSource, f: Field): Promise<string> {
  return Buffer.from(await src.read(f.start, Math.min(f.len, 4096))).toString('utf8');
}

export async function parseOnnx(src: ByteSource): Promise<OnnxInfo | null> {
  if (src.size < 4) return null;
  const first = await src.read(0, 1);
  if (first[0] !== 0x08) return null; // exporters write ir_version first
  const info: OnnxInfo = {
    irVersion: 0,
    producer: null,
    producerVersion: null,
    opsets: [],
    externalData: [],
  };
  let graph: Field | null = null;
  let ok: boolean;
  try {
    ok = await fields(src, 0, src.size, async (f) => {
      if (f.num === 1 && f.wire === 0) info.irVersion = f.value;
      else if (f.num === 2 && f.wire === 2) info.producer = await text(src, f);
      else if (f.num === 3 && f.wire === 2) info.producerVersion = await text(src, f);
      else if (f.num === 7 && f.wire === 2) graph = f;
      else if (f.num === 8 && f.wire === 2) {
        const op = { domain: '', version: 0 };
        await fields(src, f.start, f.start + f.len, async (g) => {
          if (g.num === 1 && g.wire === 2) op.domain = await text(src, g);
          if (g.num === 2 && g.wire === 0) op.version = g.value;
        });
        info.opsets.push(op);
      }
    });
  } catch (e) {
    if (e instanceof SourceReadError) throw e;
    return null;
  }
  if (!ok || info.irVersion < 1 || info.irVersion > 100 || graph === null || info.opsets.length === 0)
    return null;
  const g: Field = graph;
  // initializers (GraphProto field 5) → TensorProto external_data (13): key/value entries, "location" names a file
  if (g.len <= 256 * 1024 * 1024) {
    try {
      await fields(src, g.start, g.start + g.len, async (t) => {
        if (t.num !== 5 || t.wire !== 2) return;
        await fields(src, t.start, t.start + t.len, async (e) => {
          if (e.num !== 13 || e.wire !== 2) return;
          let key = '';
          let value = '';
          await fields(src, e.start, e.start + e.len, async (kv) => {
            if (kv.num === 1 && kv.wire === 2) key = await text(src, kv);
            if (kv.num === 2 && kv.wire === 2) value = await text(src, kv);
          });
          if (key === 'location' && info.externalData.length < 10_000) info.externalData.push(value);
        });
      });
    } catch (e) {
      if (e instanceof SourceReadError) throw e;
      /* the model itself parsed; a malformed initializer only loses the external-data check */
    }
  }
  return info;
}
