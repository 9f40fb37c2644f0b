import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the embedded S3-compatible server (s3rver) on loopback, keeping its data under `directory`. It exists so
 * the quick start needs nothing else; production points S3_ENDPOINT at S3 or MinIO instead.
 */
export async function startEmbeddedS3(directory: string, port = 0): Promise<EmbeddedS3> {
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ port, address: '127.0.0.1', directory, silent: true });
  const addr = await server.run();
  return { endpoint: `http://127.0.0.1:${addr.port}`, close: () => server.close() };
}
