import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';

export interface StreamedResult {
  status: number;
  body: string;
  /** SHA-256 of what was sent */
  sha256: string;
  sent: number;
}

/**
 * PUTs a body generated on the fly (chunked, never held in memory): `chunks` pieces of `chunkBytes`, random or
 * filled, with `between(i)` awaited before piece i. Resolves with the answer, or with status 0 when the connection
 * was cut (the server died or closed it before answering).
 */
export function streamedPut(
  url: string,
  token: string,
  opts: {
    chunks: number;
    chunkBytes: number;
    random?: boolean;
    between?: (i: number) => Promise<void>;
    headers?: Record<string, string>;
  },
): Promise<StreamedResult> {
  const hash = createHash('sha256');
  let sent = 0;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number, body: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, body, sha256: hash.digest('hex'), sent });
    };
    const req = request(
      url,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'transfer-encoding': 'chunked',
          ...opts.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done(res.statusCode ?? 0, body));
        res.on('error', () => done(res.statusCode ?? 0, body));
      },
    );
    req.on('error', () => done(0, ''));
    void (async () => {
      const filled = opts.random ? null : Buffer.alloc(opts.chunkBytes, 0x61);
      for (let i = 0; i < opts.chunks && !req.destroyed && !settled; i++) {
        await opts.between?.(i);
        const piece = filled ?? randomBytes(opts.chunkBytes);
        hash.update(piece);
        sent += piece.length;
        if (!req.write(piece)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}
