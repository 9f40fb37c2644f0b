import { ObjectStore } from '@brine/storage';
import { prepareTwin } from '@brine/twin';
import { peakRssMB } from './direct-upload';

/**
 * One side of the twin benchmark, in a process of its own (so its peak RSS is its own):
 *   convert: the worker's conversion — scan the object by range reads, stream its twin into a multipart upload;
 *   copy:    the baseline — stream the same object out of S3 and back in with the same uploader.
 * Prints {ms, rssMB, bytes, requests}.
 */
async function main(): Promise<void> {
  const [mode, endpoint, bucket, key, size] = process.argv.slice(2);
  const store = new ObjectStore({
    endpoint,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    partSize: 8 * 1024 * 1024,
    queueSize: 4,
  });
  const t = process.hrtime.bigint();
  let bytes: number;
  if (mode === 'copy') {
    const body = await store.stream(key);
    bytes = (await store.upload(`${key}.copy`, body as AsyncIterable<Buffer>, Number.MAX_SAFE_INTEGER)).size;
  } else {
    const source = store.rangeSource(key, Number(size));
    const prep = await prepareTwin(source, { path: key }, { 'brine.source': key });
    if (prep.plan === null) throw new Error(`no twin: ${prep.reason}`);
    bytes = (await store.upload(`${key}.safetensors`, prep.bytes(), prep.plan.layout.size)).size;
    process.stderr.write(`  ${source.reads} range reads\n`);
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  process.stdout.write(`${JSON.stringify({ ms, rssMB: peakRssMB(process.pid), bytes })}\n`);
  store.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
