import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, printResults, type BenchResult } from './bench-util';
import { registryBench } from './registry-bench';
import { scannerBench } from './scanner-bench';
import { twinBench } from './twin-bench';

/** `npm run bench [scanner|registry|twin]`: prints figures and ratios against baselines measured in the same run */
async function main(): Promise<void> {
  const only = process.argv[2];
  const all: Record<string, BenchResult[]> = {};
  if (!only || only === 'scanner') {
    all.scanner = await scannerBench();
    printResults('scanner', all.scanner);
  }
  if (!only || only === 'registry') {
    all.registry = await registryBench();
    printResults('registry', all.registry);
  }
  if (!only || only === 'twin') {
    all.twin = await twinBench();
    printResults('twin', all.twin);
  }
  writeFileSync(join(OUT_DIR, 'results.json'), JSON.stringify(all, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
