import type { ByteSource } from '@brine/bytes';

/**
 * CPython's `tarfile`, ported for reading: `tarfile.open(fileobj, mode="r:")` and the member listing that
 * `getmembers()` builds (`TarFile.next`, `TarInfo.frombuf`, `_proc_member`, `_proc_builtin`, `_proc_gnulong`,
 * `_proc_sparse`, `_proc_pax`, `_apply_pax_info`, `nti`, `_block`), for the three Pythons the modelled torches run
 * on: 3.11 (Debian bookworm, torch 1.13), 3.13 (trixie, torch 2.6) and 3.14 (sid, torch 2.14). They differ:
 *  - 3.11 turns a follow-up header (after a GNU long name or a PAX header) whose name ends in "/" into a
 *    directory; 3.13+ do not (`dircheck=False`);
 *  - 3.11 rounds a negative size with floor division, 3.13+ refuse it ("invalid offset");
 *  - after a PAX `size=` record, 3.13 finds the next header from the member's data offset, 3.14 from the
 *    header the PAX record belongs to (they disagree when a GNU long name sits in between);
 *  - extraction: 3.14 filters members ("data" filter), 3.11/3.13 extract links and devices as they are.
 * torch.load tries tarfile first on every file that is not a zip; what tarfile accepts or lists decides what
 * torch reads, so this must agree with CPython, not with the tar specification.
 */

export type TarPython = '3.11' | '3.13' | '3.14';
export const TAR_PYTHONS: readonly TarPython[] = ['3.11', '3.13', '3.14'];

/** What each Python's tarfile does differently (the list above, as data) */
interface TarBehaviour {
  /** TarInfo.frombuf(dircheck=True) for headers that follow a GNU long name or PAX header: "x/" becomes a directory */
  followUpDircheck: boolean;
  /** _block() of a negative size: floor division (3.11) instead of "invalid offset" */
  negativeSizeFloors: boolean;
  /** after a PAX size= record, the next header is found from the member's data (3.11, 3.13), not its own header */
  paxSizeFromData: boolean;
  /** extraction applies the "data" filter (3.14's default) */
  dataFilter: boolean;
}

const TAR_BEHAVIOUR: Readonly<Record<TarPython, TarBehaviour>> = {
  '3.11': { followUpDircheck: true, negativeSizeFloors: true, paxSizeFromData: true, dataFilter: false },
  '3.13': { followUpDircheck: false, negativeSizeFloors: false, paxSizeFromData: true, dataFilter: false },
  '3.14': { followUpDircheck: false, negativeSizeFloors: false, paxSizeFromData: false, dataFilter: true },
};

const BLOCK = 512;
/** longest GNU long name / PAX block kept for parsing; longer ones make the listing uncertain */
const MAX_EXT_HEADER = 1 << 20;

export const TAR_REGULAR_TYPES: ReadonlySet<string> = new Set(['0', '\0', '7', 'S']);
export const TAR_SUPPORTED_TYPES: ReadonlySet<string> = new Set([
  '0',
  '\0',
  '1',
  '2',
  '5',
  '6',
  '7',
  '3',
  '4',
  'L',
  'K',
  'S',
]);
const GNU_TYPES = new Set(['L', 'K', 'S']);

export interface TarMember {
  name: string;
  linkname: string;
  /** the type flag as one character ('\0' for an old regular file) */
  type: string;
  size: number;
  /** offset of the member's (first) header */
  offset: number;
  /** where its data starts */
  offsetData: number;
  /** GNU sparse member: its data is a map, not `size` plain bytes */
  sparse: boolean;
}

export interface TarListing {
  python: TarPython;
  /** tarfile.open(mode="r:") succeeds */
  opens: boolean;
  /** why it does not: a ReadError's message, or the exception that escaped */
  error: string | null;
  /** the failure is not a TarError: it escapes torch.load instead of sending it down the pickle path */
  crashes: boolean;
  /** members in archive order, as getmembers() lists them (up to the point of a listing error) */
  members: TarMember[];
  /** a ReadError raised while listing after the first member (torch then falls back to the pickle path) */
  listError: string | null;
  /** an exception other than a TarError while listing */
  listCrash: string | null;
  /** something this port does not model exactly (non-ASCII digits, huge extended headers, a listing loop) */
  uncertain: boolean;
}

class HeaderError {
  constructor(
    readonly kind: 'empty' | 'truncated' | 'eof' | 'invalid' | 'subsequent',
    readonly message: string,
  ) {}
}
/** an exception that is not a tarfile.TarError (ValueError, IndexError, OSError …) */
class Crash {
  constructor(readonly message: string) {}
}
class ReadError {
  constructor(readonly message: string) {}
}

/** Python's str.strip() on ASCII text */
function pyStrip(s: string): string {
  return s.replace(/^[\t\n\x0b\x0c\r\x1c-\x1f ]+|[\t\n\x0b\x0c\r\x1c-\x1f ]+$/g, '');
}

/** tarfile.nts: up to the first NUL, decoded UTF-8 with surrogateescape */
function nts(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return surrogateEscape(nul < 0 ? b : b.subarray(0, nul));
}

/** UTF-8 with Python's surrogateescape error handler (an undecodable byte b becomes U+DC00+b) */
export function surrogateEscape(b: Uint8Array): string {
  let s = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let min = 0;
    if (c >= 0xc2 && c <= 0xdf) [need, cp, min] = [1, c & 0x1f, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, cp, min] = [2, c & 0x0f, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, cp, min] = [3, c & 0x07, 0x10000];
    let ok = need > 0 && i + need < b.length;
    for (let k = 1; ok && k <= need; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (x & 0x3f);
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      s += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      s += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return s;
}

/** tarfile.nti: a numeric header field (octal text, or base-256 when the first byte is 0o200 or 0o377) */
function nti(b: Uint8Array): number {
  if (b[0] === 0o200 || b[0] === 0o377) {
    let n = 0n;
    for (let i = 1; i < b.length; i++) n = (n << 8n) | BigInt(b[i]);
    if (b[0] === 0o377) n = -(256n ** BigInt(b.length - 1) - n);
    return Number(n);
  }
  const nul = b.indexOf(0);
  const raw = nul < 0 ? b : b.subarray(0, nul);
  if (raw.some((x) => x >= 0x80)) throw new HeaderError('invalid', 'invalid header');
  const s = pyStrip(Buffer.from(raw).toString('latin1'));
  if (s === '') return 0;
  // int(s, 8): a sign, an optional 0o prefix, octal digits with single underscores between them
  const m = /^([+-]?)(?:0[oO]_?)?([0-7](?:_?[0-7])*)$/.exec(s);
  if (!m) throw new HeaderError('invalid', 'invalid header');
  const v = parseInt(m[2].replace(/_/g, ''), 8);
  return m[1] === '-' ? -v : v;
}

/** Python's int() of a decimal string; null for a ValueError; 'unsure' for digits this port does not decode */
function pyInt(s: string): number | null | 'unsure' {
  const t = s.replace(/^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$/g, '');
  const m = /^([+-]?)(\d(?:_?\d)*)$/.exec(t);
  if (m) return (m[1] === '-' ? -1 : 1) * Number(m[2].replace(/_/g, ''));
  if (/\p{Nd}/u.test(t)) return 'unsure';
  return null;
}

function calcChecksums(h: Uint8Array): [number, number] {
  let unsigned = 256;
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += h[i];
    signed += h[i] >= 128 ? h[i] - 256 : h[i];
  }
  return [unsigned, signed];
}

interface Info extends TarMember {
  sparseStructs?: { isExtended: boolean; origSize: number };
}

const isReg = (t: Info) => TAR_REGULAR_TYPES.has(t.type);
const isDir = (t: Info) => t.type === '5';

/** one TarFile opened for reading: its file position, its `offset` and its global PAX headers */
class Reader {
  pos = 0;
  offset = 0;
  readonly globalPax = new Map<string, string>();
  uncertain = false;

  constructor(
    private readonly src: ByteSource,
    readonly python: TarPython,
  ) {}

  private get size(): number {
    return this.src.size;
  }

  /** fileobj.read(n): at most n bytes from the position; the position moves by what was read */
  async read(n: number): Promise<Uint8Array> {
    const len = Math.max(0, Math.min(n, this.size - this.pos));
    const b = len > 0 ? await this.src.read(this.pos, len) : new Uint8Array(0);
    this.pos += b.length;
    return b;
  }

  /** reads an extended header's data (GNU long name, PAX records), keeping at most MAX_EXT_HEADER bytes */
  async readExtended(n: number): Promise<Uint8Array> {
    if (n <= MAX_EXT_HEADER) return this.read(n);
    this.uncertain = true;
    const b = await this.read(MAX_EXT_HEADER);
    this.pos = Math.min(this.size, this.pos + (n - MAX_EXT_HEADER));
    return b;
  }

  block(count: number): number {
    if (count < 0) {
      if (!TAR_BEHAVIOUR[this.python].negativeSizeFloors) throw new HeaderError('invalid', 'invalid offset');
      // 3.11: divmod with floor semantics
      const blocks = Math.floor(count / BLOCK) + (((count % BLOCK) + BLOCK) % BLOCK ? 1 : 0);
      return blocks * BLOCK;
    }
    return Math.ceil(count / BLOCK) * BLOCK;
  }

  private frombuf(buf: Uint8Array, dircheck: boolean): Info {
    if (buf.length === 0) throw new HeaderError('empty', 'empty header');
    if (buf.length !== BLOCK) throw new HeaderError('truncated', 'truncated header');
    if (buf.every((b) => b === 0)) throw new HeaderError('eof', 'end of file header');
    const chksum = nti(buf.subarray(148, 156));
    if (!calcChecksums(buf).includes(chksum)) throw new HeaderError('invalid', 'bad checksum');
    let name = nts(buf.subarray(0, 100));
    nti(buf.subarray(100, 108));
    nti(buf.subarray(108, 116));
    nti(buf.subarray(116, 124));
    const size = nti(buf.subarray(124, 136));
    nti(buf.subarray(136, 148));
    let type = String.fromCharCode(buf[156]);
    const linkname = nts(buf.subarray(157, 257));
    nti(buf.subarray(329, 337));
    nti(buf.subarray(337, 345));
    const prefix = nts(buf.subarray(345, 500));
    if (dircheck && type === '\0' && name.endsWith('/')) type = '5';
    let sparseStructs: Info['sparseStructs'];
    if (type === 'S') {
      for (let i = 0, p = 386; i < 4; i++, p += 24) {
        nti(buf.subarray(p, p + 12));
        nti(buf.subarray(p + 12, p + 24));
      }
      sparseStructs = { isExtended: buf[482] !== 0, origSize: nti(buf.subarray(483, 495)) };
    }
    if (type === '5') name = name.replace(/\/+$/, '');
    if (prefix && !GNU_TYPES.has(type)) name = `${prefix}/${name}`;
    return { name, linkname, type, size, offset: 0, offsetData: 0, sparse: false, sparseStructs };
  }

  async fromtarfile(dircheck: boolean): Promise<Info> {
    const buf = await this.read(BLOCK);
    const obj = this.frombuf(buf, dircheck);
    obj.offset = this.pos - BLOCK;
    return this.procMember(obj);
  }

  private async subsequent(): Promise<Info> {
    try {
      return await this.fromtarfile(TAR_BEHAVIOUR[this.python].followUpDircheck);
    } catch (e) {
      if (e instanceof HeaderError) throw new HeaderError('subsequent', e.message);
      throw e;
    }
  }

  private async procMember(t: Info): Promise<Info> {
    if (t.type === 'L' || t.type === 'K') return this.procGnuLong(t);
    if (t.type === 'S') return this.procSparse(t);
    if (t.type === 'x' || t.type === 'g' || t.type === 'X') return this.procPax(t);
    return this.procBuiltin(t);
  }

  private procBuiltin(t: Info): Info {
    t.offsetData = this.pos;
    let offset = t.offsetData;
    if (isReg(t) || !TAR_SUPPORTED_TYPES.has(t.type)) offset += this.block(t.size);
    this.offset = offset;
    this.applyPax(t, this.globalPax);
    if (isDir(t)) t.name = t.name.replace(/\/+$/, '');
    return t;
  }

  private async procGnuLong(t: Info): Promise<Info> {
    const buf = await this.readExtended(this.block(t.size));
    const next = await this.subsequent();
    next.offset = t.offset;
    if (t.type === 'L') next.name = nts(buf);
    else next.linkname = nts(buf);
    if (isDir(next) && next.name.endsWith('/')) next.name = next.name.slice(0, -1);
    return next;
  }

  private async procSparse(t: Info): Promise<Info> {
    let isExtended = t.sparseStructs?.isExtended ?? false;
    while (isExtended) {
      const buf = await this.read(BLOCK);
      for (let i = 0, p = 0; i < 21; i++, p += 24) {
        if (p + 24 > buf.length) break;
        nti(buf.subarray(p, p + 12));
        nti(buf.subarray(p + 12, p + 24));
      }
      if (buf.length <= 504) throw new Crash('IndexError: index out of range');
      isExtended = buf[504] !== 0;
    }
    t.sparse = true;
    t.offsetData = this.pos;
    this.offset = t.offsetData + this.block(t.size);
    t.size = t.sparseStructs?.origSize ?? t.size;
    delete t.sparseStructs;
    return t;
  }

  private async procPax(t: Info): Promise<Info> {
    const buf = await this.readExtended(this.block(t.size));
    const headers = t.type === 'g' ? this.globalPax : new Map(this.globalPax);
    const raw: Array<[Uint8Array, Uint8Array]> = [];
    let pos = 0;
    while (buf.length > pos && buf[pos] !== 0) {
      // _header_length_prefix_re: up to 20 digits, then a space
      let end = pos;
      while (end < buf.length && end - pos < 20 && buf[end] >= 0x30 && buf[end] <= 0x39) end++;
      if (end === pos || buf[end] !== 0x20) throw new HeaderError('invalid', 'invalid header');
      const length = Number(Buffer.from(buf.subarray(pos, end)).toString('latin1'));
      if (length < 5 || pos + length > buf.length) throw new HeaderError('invalid', 'invalid header');
      const valueEnd = pos + length - 1;
      const kv = buf.subarray(end + 1, valueEnd);
      const eq = kv.indexOf(0x3d);
      if (eq <= 0 || buf[valueEnd] !== 0x0a) throw new HeaderError('invalid', 'invalid header');
      raw.push([kv.subarray(0, eq), kv.subarray(eq + 1)]);
      pos += length;
    }
    for (const [k, v] of raw) headers.set(surrogateEscape(k), surrogateEscape(v));
    const next = await this.subsequent();
    if (headers.has('GNU.sparse.map') || headers.has('GNU.sparse.size')) next.sparse = true;
    else if (headers.get('GNU.sparse.major') === '1' && headers.get('GNU.sparse.minor') === '0') {
      await this.gnuSparse10(next);
    }
    if (t.type === 'x' || t.type === 'X') {
      this.applyPax(next, headers);
      if (TAR_BEHAVIOUR[this.python].paxSizeFromData) {
        next.offset = t.offset;
        if (headers.has('size')) {
          let offset = next.offsetData;
          if (isReg(next) || !TAR_SUPPORTED_TYPES.has(next.type)) offset += this.block(next.size);
          this.offset = offset;
        }
      } else {
        if (headers.has('size')) {
          let offset = next.offset + BLOCK;
          if (isReg(next) || !TAR_SUPPORTED_TYPES.has(next.type)) {
            const n = pyInt(headers.get('size') as string);
            if (n === 'unsure') this.uncertain = true;
            offset += this.block(typeof n === 'number' ? n : 0);
          }
          this.offset = offset;
        }
        next.offset = t.offset;
      }
    }
    return next;
  }

  /** _proc_gnusparse_10: a list of decimal numbers in the data blocks precedes the data */
  private async gnuSparse10(next: Info): Promise<void> {
    let buf = Buffer.from(await this.read(BLOCK));
    const split = (): string => {
      const nl = buf.indexOf(0x0a);
      if (nl < 0) throw new Crash('ValueError: not enough values to unpack');
      const head = buf.subarray(0, nl).toString('latin1');
      buf = buf.subarray(nl + 1);
      return head;
    };
    const fields = pyInt(split());
    if (typeof fields !== 'number') throw new Crash('ValueError: invalid literal for int()');
    let got = 0;
    while (got < fields * 2) {
      if (!buf.includes(0x0a)) {
        const more = await this.read(BLOCK);
        if (more.length === 0 && !buf.includes(0x0a))
          throw new Crash('ValueError: not enough values to unpack');
        buf = Buffer.concat([buf, more]);
      }
      if (typeof pyInt(split()) !== 'number') throw new Crash('ValueError: invalid literal for int()');
      got++;
    }
    next.offsetData = this.pos;
    next.sparse = true;
  }

  private applyPax(t: Info, headers: Map<string, string>): void {
    for (const [k, v] of headers) {
      if (k === 'GNU.sparse.name') t.name = v;
      else if (k === 'GNU.sparse.size' || k === 'GNU.sparse.realsize') {
        const n = pyInt(v);
        if (n === null) throw new Crash(`ValueError: invalid literal for int() with base 10: '${v}'`);
        if (n === 'unsure') this.uncertain = true;
        else t.size = n;
      } else if (k === 'path') t.name = v.replace(/\/+$/, '');
      else if (k === 'linkpath') t.linkname = v;
      else if (k === 'size') {
        const n = pyInt(v);
        if (n === 'unsure') this.uncertain = true;
        t.size = typeof n === 'number' ? n : 0;
      }
    }
  }

  /** TarFile.next(): the next member, null at the end; a ReadError or Crash when tarfile raises */
  async next(): Promise<Info | null> {
    if (this.offset !== this.pos) {
      if (this.offset === 0) return null;
      if (this.offset < 0) throw new Crash('OSError: [Errno 22] Invalid argument');
      this.pos = this.offset - 1;
      if ((await this.read(1)).length === 0) throw new ReadError('unexpected end of data');
    }
    try {
      return await this.fromtarfile(true);
    } catch (e) {
      if (!(e instanceof HeaderError)) throw e;
      const atStart = this.offset === 0;
      switch (e.kind) {
        case 'eof':
          return null;
        case 'invalid':
        case 'truncated':
          if (atStart) throw new ReadError(e.message);
          return null;
        case 'empty':
          if (atStart) throw new ReadError('empty file');
          return null;
        case 'subsequent':
          throw new ReadError(e.message);
      }
    }
  }
}

function message(e: unknown): string {
  if (e instanceof ReadError || e instanceof Crash) return e.message;
  throw e;
}

/** tarfile.open(fileobj, mode="r:") and then getmembers(), as `python` does it */
export async function listTarfile(
  src: ByteSource,
  python: TarPython,
  maxMembers = 100_000,
): Promise<TarListing> {
  const r = new Reader(src, python);
  const out: TarListing = {
    python,
    opens: false,
    error: null,
    crashes: false,
    members: [],
    listError: null,
    listCrash: null,
    uncertain: false,
  };
  let first: Info | null;
  try {
    first = await r.next();
  } catch (e) {
    out.error = message(e);
    out.crashes = e instanceof Crash;
    out.uncertain = r.uncertain;
    return out;
  }
  out.opens = true;
  const seen = new Set<number>();
  let m = first;
  while (m !== null) {
    const { sparseStructs: _s, ...member } = m as Info;
    void _s;
    out.members.push(member);
    if (out.members.length >= maxMembers || seen.has(r.offset)) {
      out.uncertain = true;
      break;
    }
    seen.add(r.offset);
    try {
      m = await r.next();
    } catch (e) {
      const msg = message(e);
      if (e instanceof Crash) out.listCrash = msg;
      else out.listError = msg;
      break;
    }
  }
  out.uncertain ||= r.uncertain;
  return out;
}

/**
 * A plain reading, as many other tar readers do it: every header is followed by `size` bytes of data whatever
 * its type, the ustar prefix counts only under the "ustar" magic, GNU long names and PAX paths name the next
 * member, PAX sizes are ignored, and the listing stops at the first zero or invalid block. Where it disagrees
 * with tarfile, two tools see two different archives.
 */
export async function listTarPlain(src: ByteSource, maxMembers = 100_000): Promise<TarMember[]> {
  const out: TarMember[] = [];
  let off = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  while (off + BLOCK <= src.size && out.length < maxMembers) {
    const h = await src.read(off, BLOCK);
    if (h.every((b) => b === 0)) break;
    let size: number;
    try {
      const chk = nti(h.subarray(148, 156));
      if (!calcChecksums(h).includes(chk)) break;
      size = Math.max(0, nti(h.subarray(124, 136)));
    } catch {
      break;
    }
    const type = String.fromCharCode(h[156] || 0x30);
    const dataOff = off + BLOCK;
    let name = nts(h.subarray(0, 100));
    if (Buffer.from(h.subarray(257, 262)).toString('latin1') === 'ustar') {
      const prefix = nts(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      const data = await src.read(dataOff, Math.min(size, MAX_EXT_HEADER));
      if (type === 'L') longName = nts(data);
      else if (type === 'K') longLink = nts(data);
      else if (type === 'x') {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(Buffer.from(data).toString('utf8'));
        if (m) longName = m[1];
      }
    } else {
      out.push({
        name: (longName ?? name).replace(/\/+$/, ''),
        linkname: longLink ?? nts(h.subarray(157, 257)),
        type,
        size,
        offset: off,
        offsetData: dataOff,
        sparse: type === 'S',
      });
      longName = null;
      longLink = null;
    }
    off = dataOff + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

/** Whether tarfile.open(mode="r:") accepts the file under any modelled Python (torch then takes the tar path). */
export async function tarListings(src: ByteSource): Promise<Record<TarPython, TarListing>> {
  const out = {} as Record<TarPython, TarListing>;
  for (const p of TAR_PYTHONS) out[p] = await listTarfile(src, p);
  return out;
}

// ---- tarfile's member lookup and extraction rules (what a loader that extracts members relies on) ----

/** os.path.normpath for POSIX paths */
export function normpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const parts: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (
      c !== '..' ||
      (initial === 0 && parts.length === 0) ||
      (parts.length > 0 && parts[parts.length - 1] === '..')
    )
      parts.push(c);
    else if (parts.length > 0) parts.pop();
  }
  const s = '/'.repeat(initial) + parts.join('/');
  return s || '.';
}

/** TarFile._getmember: the last member with that name (before `limit`, when given) */
export function findTarMember(
  members: TarMember[],
  name: string,
  limit: number,
  normalize: boolean,
): TarMember | null {
  const want = normalize ? normpath(name) : name;
  for (let i = limit - 1; i >= 0; i--) {
    const n = normalize ? normpath(members[i].name) : members[i].name;
    if (n === want) return members[i];
  }
  return null;
}

/** TarFile._find_link_target */
export function tarLinkTarget(members: TarMember[], m: TarMember): TarMember | null {
  if (m.type === '2') {
    const dir = m.name.includes('/') ? m.name.slice(0, m.name.lastIndexOf('/')) : '';
    const linkname = [dir, m.linkname].filter((x) => x !== '').join('/');
    return findTarMember(members, linkname, members.length, true);
  }
  return findTarMember(members, m.linkname, members.indexOf(m), true);
}

export const isTarLink = (m: TarMember) => m.type === '1' || m.type === '2';
/** tarfile.data_filter (3.14's default for extract): why it refuses the member, or null */
export function tarDataFilter(m: TarMember): string | null {
  if (!(TAR_REGULAR_TYPES.has(m.type) || isTarLink(m) || m.type === '5')) return 'SpecialFileError';
  if (isTarLink(m)) {
    if (m.linkname.startsWith('/')) return 'AbsoluteLinkError';
    const dir = m.type === '2' && m.name.includes('/') ? m.name.slice(0, m.name.lastIndexOf('/') + 1) : '';
    const target = normpath(dir + m.linkname);
    if (target === '..' || target.startsWith('../')) return 'LinkOutsideDestinationError';
  }
  return null;
}

/** whether `python`'s TarFile.extract applies the "data" filter by default (3.14) */
export function tarDataFilterApplies(python: TarPython): boolean {
  return TAR_BEHAVIOUR[python].dataFilter;
}
