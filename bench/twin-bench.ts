import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ObjectStore } from '@brine/storage';
import { OUT_DIR, runNode, type BenchResult } from './bench-util';
import { writeSparseTorchZip } from './scanner-bench';

/**
 * Safetensors twins: the worker's conversion of a torch zip (scan by range reads, stream the twin into a multipart
 * upload) against a plain S3 copy of the same object (stream it out and back in, same uploader), each in a fresh
 * process against the same S3 server, on three shapes: a few large contiguous tensors, transposed (gathered)
 * views, and many small tensors.
 */
const SHAPES: Array<{ name: string; count: number; bytes: number; layout: 'contiguous' | 'transposed' }> = [
  { name: '2 GiB, 32 contiguous 64 MiB tensors', count: 32, bytes: 64 << 20, layout: 'contiguous' },
  { name: '512 MiB, 8 transposed 64 MiB views', count: 8, bytes: 64 << 20, layout: 'transposed' },
  { name: '80 MiB, 20000 tensors of 4 KiB', count: 20000, bytes: 4096, layout: 'contiguous' },
];

export async function twinBench(): Promise<BenchResult[]> {
  mkdirSync(OUT_DIR, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'brine-twin-bench-'));
  const s3 = spawn(process.execPath, [join(__dirname, 's3-server.js'), join(dataDir, 's3')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const results: BenchResult[] = [];
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      s3.stdout.once('data', (d: Buffer) =>
        resolve((JSON.parse(d.toString()) as { endpoint: string }).endpoint),
      );
      s3.once('exit', (c) => reject(new Error(`the S3 server exited with ${c}`)));
    });
    const store = new ObjectStore({
      endpoint,
      bucket: 'bench',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      forcePathStyle: true,
      partSize: 8 << 20,
      queueSize: 4,
    });
    await store.ensureBucket();
    // BRINE_BENCH_TWIN=small,transposed runs the shapes whose name or layout holds one of those words
    const only = (process.env.BRINE_BENCH_TWIN ?? '').split(',').filter(Boolean);
    for (const shape of SHAPES.filter(
      (x) => only.length === 0 || only.some((w) => `${x.name} ${x.layout}`.includes(w)),
    )) {
      const file = join(OUT_DIR, `twin-${shape.layout}-${shape.count}x${shape.bytes}.pt`);
      if (!existsSync(file))
        writeSparseTorchZip(file, shape.count, shape.bytes, shape.layout === 'transposed');
      const size = statSync(file).size;
      const key = `bench/${shape.layout}-${shape.count}`;
      await store.client.send(
        new PutObjectCommand({
          Bucket: 'bench',
          Key: key,
          Body: createReadStream(file, { highWaterMark: 1 << 20 }),
          ContentLength: size,
        }),
      );
      const run = (mode: string) =>
        JSON.parse(
          runNode(join(__dirname, 'twin-convert.js'), [mode, endpoint, 'bench', key, String(size)]),
        ) as {
          ms: number;
          rssMB: number;
          bytes: number;
        };
      const copy = run('copy');
      const convert = run('convert');
      const mbs = (r: { ms: number }) => size / 1e6 / (r.ms / 1000);
      console.log(
        `${shape.name}: convert ${mbs(convert).toFixed(1)} MB/s (${convert.rssMB.toFixed(0)} MB RSS), ` +
          `S3 copy ${mbs(copy).toFixed(1)} MB/s (${copy.rssMB.toFixed(0)} MB RSS)`,
      );
      results.push(
        { name: `${shape.name}: convert`, value: mbs(convert), unit: 'MB/s' },
        { name: `${shape.name}: plain S3 copy`, value: mbs(copy), unit: 'MB/s' },
        {
          name: `${shape.name}: convert / copy`,
          value: convert.ms > 0 ? copy.ms / convert.ms : 0,
          unit: '×',
        },
        { name: `${shape.name}: convert peak RSS`, value: convert.rssMB, unit: 'MB', target: '< 300' },
      );
    }
    store.destroy();
  } finally {
    s3.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
  return results;
}
