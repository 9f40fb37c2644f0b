import { mkdirSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
  /**
   * Removes the part files of multipart uploads that will never complete (s3rver cannot abort them). Returns
   * the bytes freed.
   */
  removeUploads(bucket: string, which: PartDiscard): Promise<number>;
}

/** which multipart uploads' parts to free: those in `remove`, and any not in `keep` untouched for `staleMs` */
export interface PartDiscard {
  remove: readonly string[];
  keep: readonly string[];
  staleMs: number;
}

/**
 * Starts the embedded S3-compatible server (s3rver) on loopback, keeping its data under `directory`. It exists so
 * the quick start needs nothing else; production points S3_ENDPOINT at S3 or MinIO instead.
 */
export async function startEmbeddedS3(directory: string, port = 0): Promise<EmbeddedS3> {
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true });
  const addr = await server.run();
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    close: () => server.close(),
    removeUploads: (bucket, which) => removeUploads(join(directory, bucket, '._S3rver_uploads'), which),
  };
}

/** s3rver keeps a multipart upload's parts in <directory>/<bucket>/._S3rver_uploads/<upload id>/ */
async function removeUploads(dir: string, { remove, keep, staleMs }: PartDiscard): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let freed = 0;
  const now = Date.now();
  for (const name of names) {
    if (keep.includes(name) && !remove.includes(name)) continue;
    const p = join(dir, name);
    let newest = 0;
    let bytes = 0;
    try {
      for (const f of await readdir(p)) {
        const st = await stat(join(p, f));
        newest = Math.max(newest, st.mtimeMs);
        bytes += st.size;
      }
    } catch {
      continue;
    }
    if (remove.includes(name) || now - newest > staleMs) {
      await rm(p, { recursive: true, force: true });
      freed += bytes;
    }
  }
  return freed;
}
