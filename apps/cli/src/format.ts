/** Terminal formatting helpers shared by the commands. */
import type { LoadRecipe } from '@brine/scanner/report';

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;

function paint(code: string, s: string): string {
  return useColor ? `\x1b[${code}m${s}\x1b[0m` : s;
}

export const bold = (s: string) => paint('1', s);
export const dim = (s: string) => paint('2', s);
export const red = (s: string) => paint('31', s);
export const green = (s: string) => paint('32', s);
export const yellow = (s: string) => paint('33', s);

export function verdictLabel(v: string): string {
  const label = v.toUpperCase();
  if (v === 'safe') return green(label);
  if (v === 'dangerous') return red(label);
  return yellow(label);
}

export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let x = n;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`;
}

export function humanCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** A progress bar on stderr that redraws in place (only on a terminal). */
export class ProgressBar {
  private last = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}
  update(done: number): void {
    if (!process.stderr.isTTY) return;
    const now = Date.now();
    if (now - this.last < 100 && done < this.total) return;
    this.last = now;
    const width = 30;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const fill = Math.round(frac * width);
    process.stderr.write(
      `\r${this.label} [${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${humanBytes(done)}/${humanBytes(this.total)}`,
    );
  }
  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

/**
 * A report's load recipe for one torch version, as lines to print: the code, or why there is no safe way. `file`
 * puts a downloaded file's path where the recipe names the file as uploaded (or "model.pt" when it had no name).
 */
export function recipeLines(
  version: string,
  recipe: LoadRecipe,
  file?: { from: string[]; to: string },
): string[] {
  const out = [`  ${dim(`how to load on torch ${version}:`)}`];
  if (recipe.code !== null) {
    let code = recipe.code;
    for (const from of file?.from ?? []) {
      const stem = from.replace(/\.[^.]*$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      code = code.replace(new RegExp(`"${stem}(\\.\\w+)?"`, 'g'), JSON.stringify(file?.to));
    }
    out.push(...code.split('\n').map((l) => `    ${l}`));
  }
  for (const n of recipe.notes) out.push(`    ${recipe.loads ? dim(`# ${n}`) : n}`);
  if (recipe.ifTrusted) {
    out.push(
      `  ${dim(`only if you trust ${recipe.ifTrusted.trust.join(', ')} (code Brine cannot vouch for):`)}`,
    );
    out.push(...recipe.ifTrusted.code.split('\n').map((l) => `    ${l}`));
  }
  return out;
}
