import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** the figure we aim for, printed next to the measurement */
  target?: string;
}

/** generated inputs and results (git-ignored) */
export const OUT_DIR = join(__dirname, '..', '..', 'bench', 'out');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** runs a compiled script in a fresh Node process (so its peak RSS is its own) and returns its stdout */
export function runNode(script: string, args: string[]): string {
  return execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
}

export function printResults(title: string, results: BenchResult[]): void {
  console.log(`\n${title}`);
  for (const r of results) {
    const v = Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(r.value < 10 ? 2 : 1);
    console.log(
      `  ${r.name.padEnd(44)} ${v.padStart(10)} ${r.unit}${r.target ? `   (target ${r.target})` : ''}`,
    );
  }
}
