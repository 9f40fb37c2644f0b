import { BadRequestException, HttpException } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { CheckpointsService } from '@brine/registry';

/** a single `Range: bytes=…` within `size`, or null for the whole file */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
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

/** streams a version's bytes (whole or one range) with its checksum and file name */
export async function sendFile(
  checkpoints: CheckpointsService,
  name: string,
  version: string,
  ack: boolean,
  req: Request,
  res: Response,
): Promise<void> {
  const v = await checkpoints.requireVersion(name, version);
  const range = parseRange(req.headers.range, v.size);
  const { stream } = await checkpoints.download(name, version, ack, range);
  const filename = v.filename ?? `${name}-${version}`;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`);
  res.setHeader('x-checksum-sha256', v.sha256);
  res.setHeader('ETag', `"${v.sha256}"`);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('x-brine-verdict', v.verdict ?? v.scanStatus);
  // which version this is (a tag names one only for now)
  res.setHeader('x-brine-version', encodeURIComponent(v.version));
  if (range) {
    res.status(206);
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${v.size}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
  } else res.setHeader('Content-Length', String(v.size));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
