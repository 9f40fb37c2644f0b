import { SourceReadError, type ByteSource } from '@brine/bytes';
import type { TensorRecord } from '../report';

/**
 * GGUF (llama.cpp) header parsing: metadata key/values and tensor infos, read with small reads. GGUF carries no
 * code, but its Jinja chat template is executed by some runtimes (CVE-2024-34359), so templates are checked.
 */

const GGML_TYPES: ReadonlyArray<readonly [number, string, number, number]> = [
  [0, 'F32', 1, 4],
  [1, 'F16', 1, 2],
  [2, 'Q4_0', 32, 18],
  [3, 'Q4_1', 32, 20],
  [6, 'Q5_0', 32, 22],
  [7, 'Q5_1', 32, 24],
  [8, 'Q8_0', 32, 34],
  [9, 'Q8_1', 32, 36],
  [10, 'Q2_K', 256, 84],
  [11, 'Q3_K', 256, 110],
  [12, 'Q4_K', 256, 144],
  [13, 'Q5_K', 256, 176],
  [14, 'Q6_K', 256, 210],
  [15, 'Q8_K', 256, 292],
  [16, 'IQ2_XXS', 256, 66],
  [17, 'IQ2_XS', 256, 74],
  [18, 'IQ3_XXS', 256, 98],
  [19, 'IQ1_S', 256, 50],
  [20, 'IQ4_NL', 32, 18],
  [21, 'IQ3_S', 256, 110],
  [22, 'IQ2_S', 256, 82],
  [23, 'IQ4_XS', 256, 136],
  [24, 'I8', 1, 1],
  [25, 'I16', 1, 2],
  [26, 'I32', 1, 4],
  [27, 'I64', 1, 8],
  [28, 'F64', 1, 8],
  [29, 'IQ1_M', 256, 56],
  [30, 'BF16', 1, 2],
  [34, 'TQ1_0', 256, 54],
  [35, 'TQ2_0', 256, 66],
];
const TYPES = new Map(GGML_TYPES.map(([id, name, block, size]) => [id, { name, block, size }]));

export interface GgufInfo {
  version: number;
  bigEndian: boolean;
  metadata: Record<string, string | number | boolean>;
  tensors: TensorRecord[];
  chatTemplate: string | null;
  error: string | null;
}

class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(
    private readonly src: ByteSource,
    public pos: number,
    private readonly le: boolean,
  ) {}
  private async ensure(n: number): Promise<void> {
    if (this.pos >= this.start && this.pos + n <= this.start + this.buf.length) return;
    if (this.pos + n > this.src.size) throw new Error('truncated GGUF header');
    this.start = this.pos;
    this.buf = await this.src.read(this.pos, Math.max(n, 256 * 1024));
  }
  private async view(n: number): Promise<DataView> {
    await this.ensure(n);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + (this.pos - this.start), n);
    this.pos += n;
    return v;
  }
  async u8(): Promise<number> {
    return (await this.view(1)).getUint8(0);
  }
  async u32(): Promise<number> {
    return (await this.view(4)).getUint32(0, this.le);
  }
  async u64(): Promise<number> {
    const v = (await this.view(8)).getBigUint64(0, this.le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('GGUF count out of range');
    return Number(v);
  }
  async str(max: number): Promise<string> {
    const n = await this.u64();
    if (n > max) {
      this.pos += n;
      return `<${n} bytes>`;
    }
    await this.ensure(n);
    const s = Buffer.from(this.buf.subarray(this.pos - this.start, this.pos - this.start + n)).toString(
      'utf8',
    );
    this.pos += n;
    return s;
  }
  skip(n: number): void {
    this.pos += n;
  }
}

const SCALAR_SIZE: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

export async function parseGguf(src: ByteSource): Promise<GgufInfo> {
  const head = await src.read(0, 8);
  const leVersion = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
  const bigEndian = leVersion > 0xffff;
  const r = new Reader(src, 4, !bigEndian);
  const info: GgufInfo = {
    version: 0,
    bigEndian,
    metadata: {},
    tensors: [],
    chatTemplate: null,
    error: null,
  };
  try {
    info.version = await r.u32();
    if (info.version < 1 || info.version > 3) throw new Error(`unsupported GGUF version ${info.version}`);
    const count = async () => (info.version === 1 ? r.u32() : r.u64());
    const nTensors = await count();
    const nKv = await count();
    if (nTensors > 1_000_000 || nKv > 1_000_000) throw new Error('implausible GGUF counts');
    let alignment = 32;
    for (let i = 0; i < nKv; i++) {
      const key = await r.str(1 << 16);
      const type = await r.u32();
      const value = await readValue(r, type, key === 'tokenizer.chat_template');
      if (value !== undefined) info.metadata[key] = value;
      if (key === 'general.alignment' && typeof value === 'number') alignment = value;
      if (key === 'tokenizer.chat_template' && typeof value === 'string') info.chatTemplate = value;
    }
    const raw: Array<{ name: string; dims: number[]; type: number; offset: number }> = [];
    for (let i = 0; i < nTensors; i++) {
      const name = await r.str(1 << 16);
      const nd = await r.u32();
      if (nd > 8) throw new Error(`tensor ${name} has ${nd} dimensions`);
      const dims: number[] = [];
      for (let k = 0; k < nd; k++) dims.push(await r.u64());
      raw.push({ name, dims, type: await r.u32(), offset: await r.u64() });
    }
    const dataStart = Math.ceil(r.pos / alignment) * alignment;
    for (const t of raw) {
      const ty = TYPES.get(t.type);
      const numel = t.dims.reduce((a, b) => a * b, 1);
      const bytes = ty ? Math.ceil(numel / ty.block) * ty.size : 0;
      if (dataStart + t.offset + bytes > src.size)
        throw new Error(`tensor ${t.name} lies beyond the end of the file`);
      info.tensors.push({
        name: t.name,
        dtype: ty?.name ?? `ggml_type_${t.type}`,
        shape: [...t.dims].reverse(),
        numel,
        bytes,
      });
    }
  } catch (e) {
    if (e instanceof SourceReadError) throw e;
    info.error = (e as Error).message;
  }
  return info;
}

async function readValue(
  r: Reader,
  type: number,
  keepLong: boolean,
): Promise<string | number | boolean | undefined> {
  if (type === 8) return r.str(keepLong ? 1 << 20 : 4096);
  if (type === 9) {
    const itemType = await r.u32();
    const n = await r.u64();
    if (SCALAR_SIZE[itemType] !== undefined) r.skip(n * SCALAR_SIZE[itemType]);
    else for (let i = 0; i < n; i++) await readValue(r, itemType, false);
    return undefined;
  }
  const size = SCALAR_SIZE[type];
  if (size === undefined) throw new Error(`unknown GGUF value type ${type}`);
  if (type === 7) return (await r.u8()) !== 0;
  if (type === 4 || type === 5) return r.u32();
  if (type === 10 || type === 11) return r.u64();
  r.skip(size);
  return undefined;
}

/** Jinja constructs that reach Python internals when a runtime renders the template unsandboxed */
export function templateThreat(t: string): string | null {
  const m =
    /(__class__|__globals__|__subclasses__|__builtins__|__import__|__mro__|__base__|\bos\.popen|\bsubprocess\b|\beval\s*\(|\bexec\s*\()/.exec(
      t,
    );
  return m ? m[1] : null;
}
