import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/paths';

/**
 * The scanner's memory bound (256 MB, README) holds for archives of many entries: `brine scan` runs as a user
 * runs it, in its own process, and reports its peak resident set size (getrusage's ru_maxrss) as it exits.
 * Before the zip reader kept its central directory as columns, 200 000 empty entries peaked at 357 MB on Node 24.
 */
const LIMIT = 256 * 1024 * 1024;
let dir: string;

/** a zip written by Python's zipfile: a torch checkpoint's records, then `extra` entries */
function torchZip(path: string, extra: string): void {
  execFileSync('/usr/bin/python3', [
    '-c',
    `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_STORED) as z:
    z.writestr('archive/data.pkl', b'\\x80\\x02}q\\x00.')
    z.writestr('archive/version', b'3\\n')
${extra}`,
    path,
  ]);
}

interface Run {
  verdict: string;
  peak: number;
}

function scanWithPeak(file: string): Promise<Run> {
  const preload = join(dir, 'report-rss.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-r', preload, join(REPO_ROOT, 'bin', 'brine.js'), 'scan', '--json', file],
      { maxBuffer: 256 * 1024 * 1024, timeout: 240_000 },
      (err, stdout, stderr) => {
        // the hashing worker thread reports too, when it ends: the process's peak is the largest figure
        const peaks = [...stderr.matchAll(/brine-test-maxrss=(\d+)/g)].map((m) => Number(m[1]));
        if (peaks.length === 0) return reject(err ?? new Error(`no peak reported: ${stderr}`));
        try {
          const [report] = JSON.parse(stdout) as Array<{ verdict: string }>;
          resolve({ verdict: report.verdict, peak: Math.max(...peaks) * 1024 });
        } catch (e) {
          reject(e instanceof Error ? new Error(`${e.message}: ${stderr}`) : e);
        }
      },
    );
  });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'brine-scan-memory-'));
  writeFileSync(
    join(dir, 'report-rss.js'),
    "process.on('exit', () => process.stderr.write(`brine-test-maxrss=${process.resourceUsage().maxRSS}\\n`));\n",
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('brine scan stays under the memory bound', () => {
  it('a torch zip of 200 000 empty entries', async (t) => {
    const file = join(dir, 'empty-entries.pt');
    torchZip(file, `    for i in range(200000):\n        z.writestr(f'archive/data/{i}', b'')`);
    const r = await scanWithPeak(file);
    t.diagnostic(`peak RSS ${(r.peak / 1e6).toFixed(0)} MB`);
    assert.equal(r.verdict, 'safe', 'read to the end');
    assert.ok(r.peak < LIMIT, `peak RSS ${(r.peak / 1e6).toFixed(0)} MB`);
  });

  it('a torch zip of 200 000 entries whose names collide once case is folded', async (t) => {
    const file = join(dir, 'colliding.pt');
    torchZip(
      file,
      `    import warnings\n    warnings.simplefilter('ignore')\n    for i in range(100000):\n        z.writestr('archive/x', b'')\n        z.writestr('archive/X', b'')`,
    );
    const r = await scanWithPeak(file);
    t.diagnostic(`peak RSS ${(r.peak / 1e6).toFixed(0)} MB`);
    assert.equal(r.verdict, 'dangerous', 'the collisions are a differential');
    assert.ok(r.peak < LIMIT, `peak RSS ${(r.peak / 1e6).toFixed(0)} MB`);
  });
});
