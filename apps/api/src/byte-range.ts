import { BadRequestException, HttpException } from '@nestjs/common';

export interface ByteRange {
  start: number;
  end: number;
}

/** a single `Range: bytes=…` within `size`, or null for the whole file */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === ''))
    throw new BadRequestException('Range must be one byte range, like "bytes=0-1023"');
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) {
    throw new HttpException({ message: `the range lies outside the ${size} bytes of the file` }, 416);
  }
  return { start, end };
}
