import { createReadStream, readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/**
 * The baseline for the API's PUT: the same file sent straight to the same S3 server with @aws-sdk/lib-storage,
 * with the registry's part size and parallelism. Prints {ms, rssMB}.
 */
async function main(): Promise<void> {
  const [endpoint, bucket, key, file, partSize, queueSize] = process.argv.slice(2);
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const t = process.hrtime.bigint();
  await new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1 << 20 }) },
    partSize: Number(partSize),
    queueSize: Number(queueSize),
  }).done();
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, rssMB: peakRssMB(process.pid) })}\n`);
}

/** the high-water mark of a process's resident set, from /proc */
export function peakRssMB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

if (require.main === module)
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
