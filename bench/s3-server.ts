import { startEmbeddedS3 } from '@brine/storage';

/** the embedded S3 server in a process of its own, so neither side of a benchmark shares its event loop */
async function main(): Promise<void> {
  const s3 = await startEmbeddedS3(process.argv[2]);
  process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
  process.once('SIGTERM', () => void s3.close().then(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
