import { crc32 } from 'node:zlib';

/** A tiny pickle assembler for tests: builds streams opcode by opcode (nothing is ever executed). */
export class PickleAsm {
  private parts: Buffer[] = [];

  raw(b: Buffer | number[] | string): this {
    this.parts.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b));
    return this;
  }
  proto(n: number): this {
    return this.raw([0x80, n]);
  }
  global(module: string, name: string): this {
    return this.raw(`c${module}\n${name}\n`);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.raw(Buffer.concat([Buffer.from('X'), len, b]));
  }
  shortStr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(Buffer.concat([Buffer.from([0x8c, b.length]), b]));
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw([0x4b, n]);
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return this.raw(b);
  }
  op(name: keyof typeof OPS): this {
    return this.raw([OPS[name]]);
  }
  binput(i: number): this {
    return this.raw([0x71, i]);
  }
  binget(i: number): this {
    return this.raw([0x68, i]);
  }
  frame(body: Buffer): this {
    const h = Buffer.alloc(9);
    h[0] = 0x95;
    h.writeBigUInt64LE(BigInt(body.length), 1);
    return this.raw(Buffer.concat([h, body]));
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export const OPS = {
  MARK: 0x28,
  STOP: 0x2e,
  POP: 0x30,
  POP_MARK: 0x31,
  DUP: 0x32,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_TUPLE: 0x29,
  EMPTY_LIST: 0x5d,
  LIST: 0x6c,
  EMPTY_DICT: 0x7d,
  EMPTY_SET: 0x8f,
  APPEND: 0x61,
  APPENDS: 0x65,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  REDUCE: 0x52,
  BUILD: 0x62,
  NEWOBJ: 0x81,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  MEMOIZE: 0x94,
  STACK_GLOBAL: 0x93,
  BINPERSID: 0x51,
} as const;

/** a torch zip (archive/data.pkl, archive/version) around a pickle: stored entries, as zipfile would write them */
export function torchZipOf(pickle: Buffer): Buffer {
  const entries: Array<[string, Buffer]> = [
    ['archive/data.pkl', pickle],
    ['archive/version', Buffer.from('3\n')],
  ];
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += 30 + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
