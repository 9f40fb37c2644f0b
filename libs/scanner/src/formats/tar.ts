import type { ByteSource } from '../source';

/**
 * Python's tarfile.open(fileobj, mode="r:") decision and a member listing. torch ≥ 2.6 refuses every file that
 * tarfile accepts (CVE-2025-32434) before reading anything else, so this must match Python, not a tar spec.
 */
const BLOCK = 512;

export interface TarMember {
  name: string;
  size: number;
  /** absolute offset of the member's data */
  offset: number;
  type: string;
  /** the header declares more bytes than the file holds */
  truncated: boolean;
}

/** tarfile's nti(): octal text (NUL/space terminated) or base-256 */
function nti(b: Uint8Array): number | null {
  if (b[0] === 0o200 || b[0] === 0o377) {
    let n = 0;
    for (let i = 1; i < b.length; i++) n = n * 256 + b[i];
    return b[0] === 0o377 ? n - 256 ** (b.length - 1) : n;
  }
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  const s = Buffer.from(b.subarray(0, end)).toString('latin1').trim();
  if (s === '') return 0;
  if (!/^[+-]?[0-7]+(_[0-7]+)*$/.test(s)) return null;
  return parseInt(s.replace(/_/g, ''), 8);
}

function checksumOk(h: Uint8Array): boolean {
  const stored = nti(h.subarray(148, 156));
  if (stored === null) return false;
  let unsigned = 256;
  let signed = 256;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    unsigned += h[i];
    signed += h[i] >= 128 ? h[i] - 256 : h[i];
  }
  return stored === unsigned || stored === signed;
}

function headerValid(h: Uint8Array): boolean {
  if (!checksumOk(h)) return false;
  // the numeric fields tarfile parses while building the TarInfo
  for (const [a, b] of [
    [100, 108],
    [108, 116],
    [116, 124],
    [124, 136],
    [136, 148],
  ] as const) {
    if (nti(h.subarray(a, b)) === null) return false;
  }
  return true;
}

/** Would tarfile.open(mode="r:") succeed on this file? (An all-zero first block opens as an empty archive.) */
export async function isPythonTar(src: ByteSource): Promise<boolean> {
  if (src.size < BLOCK) return false;
  const h = await src.read(0, BLOCK);
  if (h.every((b) => b === 0)) return true;
  return headerValid(h);
}

/** Lists members (ustar, GNU long names, PAX path records); stops at the first invalid header. */
export async function listTar(src: ByteSource, maxMembers = 10_000): Promise<TarMember[]> {
  const out: TarMember[] = [];
  let off = 0;
  let longName: string | null = null;
  while (off + BLOCK <= src.size && out.length < maxMembers) {
    const h = await src.read(off, BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!headerValid(h)) break;
    const size = nti(h.subarray(124, 136)) ?? 0;
    const type = String.fromCharCode(h[156] || 0x30);
    const dataOff = off + BLOCK;
    let name = cstr(h.subarray(0, 100));
    const magic = cstr(h.subarray(257, 263));
    if (magic.startsWith('ustar')) {
      const prefix = cstr(h.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    if (type === 'L' || type === 'x') {
      const data = Buffer.from(await src.read(dataOff, Math.min(size, 65536)));
      if (type === 'L') longName = data.toString('utf8').replace(/\0.*$/s, '');
      else {
        const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
        if (m) longName = m[1];
      }
    } else {
      const available = Math.max(0, src.size - dataOff);
      out.push({
        name: longName ?? name,
        size: Math.min(size, available),
        offset: dataOff,
        type,
        truncated: size > available,
      });
      longName = null;
    }
    off = dataOff + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}

function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end)).toString('utf8');
}
