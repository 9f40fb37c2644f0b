/**
 * Byte → text decoding with Python's exact rules. Python's 'surrogatepass' (used by BINUNICODE) accepts UTF-8
 * encoded surrogates that WHATWG decoders reject, so validation is done here.
 */

export class DecodeError extends Error {
  constructor(
    readonly codec: string,
    readonly byte: number,
    readonly position: number,
    readonly reason: string,
  ) {
    super(
      `'${codec}' codec can't decode byte 0x${byte.toString(16).padStart(2, '0')} in position ${position}: ${reason}`,
    );
  }
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function isAscii(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] >= 0x80) return false;
  return true;
}

/** Decodes ASCII fast, otherwise validates (strict, or allowing encoded surrogates) and decodes. */
export function decodeUtf8(b: Uint8Array, start: number, end: number, surrogatePass: boolean): string {
  if (isAscii(b, start, end)) {
    return end - start < 64 ? asciiShort(b, start, end) : latin1.decode(b.subarray(start, end));
  }
  const hasSurrogates = validateUtf8(b, start, end, surrogatePass);
  if (!hasSurrogates) return utf8.decode(b.subarray(start, end));
  return decodeWithSurrogates(b, start, end);
}

/**
 * A short string of code points 0–255 (ASCII, or Latin-1) as one flat string. (Appending a character at a time would build a rope of one node per
 * character, which V8 keeps as is when the string is stored: a state dict's keys then cost ~30 bytes per byte.)
 */
function asciiShort(b: Uint8Array, start: number, end: number): string {
  const f = String.fromCharCode;
  switch (end - start) {
    case 0:
      return '';
    case 1:
      return f(b[start]);
    case 2:
      return f(b[start], b[start + 1]);
    case 3:
      return f(b[start], b[start + 1], b[start + 2]);
    case 4:
      return f(b[start], b[start + 1], b[start + 2], b[start + 3]);
    case 5:
      return f(b[start], b[start + 1], b[start + 2], b[start + 3], b[start + 4]);
    case 6:
      return f(b[start], b[start + 1], b[start + 2], b[start + 3], b[start + 4], b[start + 5]);
    case 7:
      return f(b[start], b[start + 1], b[start + 2], b[start + 3], b[start + 4], b[start + 5], b[start + 6]);
    case 8:
      return f(
        b[start],
        b[start + 1],
        b[start + 2],
        b[start + 3],
        b[start + 4],
        b[start + 5],
        b[start + 6],
        b[start + 7],
      );
    default:
      // up to 32 characters: pieces of 8 (V8 makes fromCharCode with a fixed count of arguments fast; joining
      // a few pieces makes at most a few rope nodes, not one per character)
      if (end - start <= 32) return asciiShort(b, start, start + 8) + asciiShort(b, start + 8, end);
      // apply takes the typed array as it is; a spread would run the iterator protocol per byte
      // eslint-disable-next-line prefer-spread
      return f.apply(null, b.subarray(start, end) as unknown as number[]);
  }
}

export function decodeAscii(b: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (b[i] >= 0x80) throw new DecodeError('ascii', b[i], i - start, 'ordinal not in range(128)');
  }
  return end - start < 64 ? asciiShort(b, start, end) : latin1.decode(b.subarray(start, end));
}

export function decodeLatin1(b: Uint8Array, start: number, end: number): string {
  // bytes 0x00–0xff are the code points U+0000–U+00FF: the short-string path decodes Latin-1 as it is
  return end - start < 64 ? asciiShort(b, start, end) : latin1.decode(b.subarray(start, end));
}

/** Returns whether encoded surrogates were seen; throws DecodeError like CPython's UTF-8 codec. */
function validateUtf8(b: Uint8Array, start: number, end: number, surrogatePass: boolean): boolean {
  let surrogates = false;
  let i = start;
  while (i < end) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if (c === 0xed) {
      need = 2;
      if (!surrogatePass) hi = 0x9f;
    } else if (c >= 0xe1 && c <= 0xef) need = 2;
    else if (c === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else throw new DecodeError('utf-8', c, i - start, 'invalid start byte');
    if (i + 1 >= end) throw new DecodeError('utf-8', c, i - start, 'unexpected end of data');
    const c1 = b[i + 1];
    if (c1 < lo || c1 > hi) throw new DecodeError('utf-8', c, i - start, 'invalid continuation byte');
    if (c === 0xed && c1 >= 0xa0) surrogates = true;
    for (let k = 2; k <= need; k++) {
      if (i + k >= end) throw new DecodeError('utf-8', c, i - start, 'unexpected end of data');
      const ck = b[i + k];
      if (ck < 0x80 || ck > 0xbf) throw new DecodeError('utf-8', c, i - start, 'invalid continuation byte');
    }
    i += need + 1;
  }
  return surrogates;
}

function decodeWithSurrogates(b: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let i = start;
  while (i < end) {
    const c = b[i];
    let cp: number;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c < 0xe0) {
      cp = ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      cp = ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      i += 3;
    } else {
      cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f);
      i += 4;
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else units.push(cp);
  }
  let s = '';
  for (let k = 0; k < units.length; k += 4096) s += String.fromCharCode(...units.slice(k, k + 4096));
  return s;
}

/** Python's int() of a decimal literal, as used by INT/LONG/GET/PUT text opcodes (base 0 for INT/LONG). */
export function parsePythonInt(text: string, base0: boolean): bigint | null {
  const t = text.trim();
  const m = /^([+-]?)(.*)$/s.exec(t);
  if (!m) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  let body = m[2];
  let radix = 10;
  if (base0) {
    const p = /^0([xob])/i.exec(body);
    if (p) {
      radix = p[1].toLowerCase() === 'x' ? 16 : p[1].toLowerCase() === 'o' ? 8 : 2;
      body = body.slice(2).replace(/^_/, '');
    } else if (/^0+[1-9]/.test(body.replace(/_/g, ''))) return null; // base 0 refuses leading zeros
  }
  if (!/^[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/.test(body)) return null;
  body = body.replace(/_/g, '');
  const digits = '0123456789abcdef'.slice(0, radix);
  let v = 0n;
  const r = BigInt(radix);
  for (const ch of body.toLowerCase()) {
    const d = digits.indexOf(ch);
    if (d < 0) return null;
    v = v * r + BigInt(d);
  }
  return sign * v;
}
