import { scan } from '@brine/scanner';
import { LocalFileSource } from '@brine/storage/local-file';

/** scans one file and prints {ms, rssMB} — run in its own process so the RSS is the scan's alone */
async function main(): Promise<void> {
  const src = await LocalFileSource.open(process.argv[2]);
  const t = process.hrtime.bigint();
  const report = await scan(src, { path: process.argv[2] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  await src.close();
  console.log(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, verdict: report.verdict }));
}

void main();
