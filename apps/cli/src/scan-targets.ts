import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UsageError } from './usage-error';

/**
 * Which files `brine scan` looks at. Files named on the command line are always scanned. In folders, version
 * control and dependency folders (.git, .hg, .svn, node_modules) are passed over, `--exclude` globs drop paths,
 * `--include` globs (when given) keep only matching paths, and files whose bytes are clearly not a model are
 * skipped: images, fonts and PDFs by their signature. Text files are scanned like anything else (a protocol-0
 * pickle is text) and reported only when they turn out to be something (the scan command decides). A binary file
 * of a format Brine does not know is scanned and reported as such, never as safe.
 */

export interface Skipped {
  path: string;
  why: string;
}

export interface Targets {
  /** files to scan, and whether each was named on the command line */
  files: Array<{ path: string; named: boolean }>;
  skipped: Skipped[];
}

const SKIPPED_FOLDERS = new Set(['.git', '.hg', '.svn', 'node_modules']);

/** signatures of files that cannot be a model any loader reads */
const NOT_MODELS: ReadonlyArray<readonly [string, (h: Buffer) => boolean]> = [
  ['a PNG image', (h) => h.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))],
  ['a JPEG image', (h) => h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff],
  ['a GIF image', (h) => h.subarray(0, 4).toString('latin1') === 'GIF8'],
  [
    'a WebP image',
    (h) => h.subarray(0, 4).toString('latin1') === 'RIFF' && h.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
  ['a PDF document', (h) => h.subarray(0, 5).toString('latin1') === '%PDF-'],
  ['a web font', (h) => ['wOFF', 'wOF2'].includes(h.subarray(0, 4).toString('latin1'))],
];

/** a glob (`*`, `**`, `?`, `[...]`, `{a,b}`) as a regular expression over `/`-separated paths */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i + 1);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map((x) => x.replace(/[.+^$()|\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
          .join('|')})`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

interface Glob {
  re: RegExp;
  /** a glob without "/" also matches a file name anywhere (as .gitignore patterns do) */
  anywhere: boolean;
}

/** whether a path matches a glob: the whole relative path, or (for globs without "/") its file name */
function matches(globs: Glob[], path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return globs.some((g) => g.re.test(path) || (g.anywhere && g.re.test(base)));
}

async function head(path: string, n = 16): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function collectTargets(
  paths: string[],
  include: string[],
  exclude: string[],
): Promise<Targets> {
  const glob = (g: string): Glob => ({ re: globToRegExp(g), anywhere: !g.includes('/') });
  const inc = include.map(glob);
  const exc = exclude.map(glob);
  const out: Targets = { files: [], skipped: [] };
  const visit = async (p: string, root: string, named: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    const rel = relative(root, p).split(sep).join('/') || p;
    if (st.isDirectory()) {
      const name = p.split(sep).pop() ?? p;
      if (!named && SKIPPED_FOLDERS.has(name)) {
        out.skipped.push({ path: p, why: 'a version-control or dependency folder' });
        return;
      }
      for (const n of (await readdir(p)).sort()) await visit(join(p, n), root, false);
      return;
    }
    if (!st.isFile()) return;
    if (!named) {
      if (exc.length > 0 && matches(exc, rel)) {
        out.skipped.push({ path: p, why: 'matches --exclude' });
        return;
      }
      if (inc.length > 0 && !matches(inc, rel)) {
        out.skipped.push({ path: p, why: 'does not match --include' });
        return;
      }
      const h = await head(p).catch(() => Buffer.alloc(0));
      const notModel = NOT_MODELS.find(([, test]) => test(h));
      if (notModel) {
        out.skipped.push({ path: p, why: notModel[0] });
        return;
      }
    }
    out.files.push({ path: p, named });
  };
  for (const p of paths) await visit(p, p, true);
  return out;
}
