import type { Request, Response } from 'express';
import type { CheckpointsService } from '@brine/registry';
import { parseRange } from '../byte-range';

/** streams a version's bytes, or its safetensors twin's (whole or one range), with its checksum and file name */
export async function sendFile(
  checkpoints: CheckpointsService,
  name: string,
  version: string,
  query: { acknowledgeRisk: boolean; format: 'original' | 'safetensors' },
  req: Request,
  res: Response,
): Promise<void> {
  const { v, file } = await checkpoints.download(name, version, query.acknowledgeRisk, query.format);
  const range = parseRange(req.headers.range, file.size);
  const stream = await checkpoints.open(file, range ?? undefined);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`);
  res.setHeader('x-checksum-sha256', file.sha256);
  res.setHeader('ETag', `"${file.sha256}"`);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('x-brine-verdict', file.verdict);
  res.setHeader('x-brine-format', query.format);
  // which version this is (a tag names one only for now)
  res.setHeader('x-brine-version', encodeURIComponent(v.version));
  if (range) {
    res.status(206);
    res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
    res.setHeader('Content-Length', String(range.end - range.start + 1));
  } else res.setHeader('Content-Length', String(file.size));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
