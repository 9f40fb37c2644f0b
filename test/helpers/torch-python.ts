import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TorchVersion } from '@brine/scanner/report';
import { REPO_ROOT, SHARED } from './paths';

/**
 * Python with each torch Brine models: Debian's /usr/bin/python3 (torch 1.13) and torch-oracle's roots (2.6 in
 * Debian trixie, 2.14 in sid), where the repository is visible at /src. Tests run real torch through here.
 */
export const HOST_PYTHON = process.env.BRINE_PYTHON ?? '/usr/bin/python3';
export const ORACLE = join(SHARED, 'tools', 'torch-oracle');
const ORACLE_HOME = process.env.TORCH_ORACLE_HOME ?? '/var/cache/torch-oracle';
const ROOTS: Record<Exclude<TorchVersion, '1.13'>, string> = { '2.6': 'trixie', '2.14': 'sid' };

/** why torch `v` cannot be run here, or null when it can */
export function torchMissing(v: TorchVersion): string | null {
  if (v === '1.13')
    return existsSync(HOST_PYTHON)
      ? null
      : `${HOST_PYTHON} with torch is needed: apt-get install python3-torch`;
  const root = join(ORACLE_HOME, ROOTS[v]);
  return existsSync(ORACLE) && existsSync(join(root, 'usr', 'bin', 'python3'))
    ? null
    : `torch-oracle's ${v} root is not set up (${root}): run ${ORACLE} setup`;
}

/** a path of the repository as Python in torch `v` sees it */
export function torchPath(v: TorchVersion, p: string): string {
  return v === '1.13' ? p : `/src/${relative(REPO_ROOT, p)}`;
}

export interface PythonRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `python3 script args…` with torch `v`, in `cwd` (a folder of the repository), with `stdin` written to it.
 * `env` is passed on (inside a root too).
 */
export function runTorchPython(
  v: TorchVersion,
  script: string,
  opts: { cwd: string; args?: string[]; stdin?: string; env?: Record<string, string> } = { cwd: REPO_ROOT },
): Promise<PythonRun> {
  const args = opts.args ?? [];
  const envList = Object.entries(opts.env ?? {}).map(([k, val]) => `${k}=${val}`);
  const [cmd, argv, cwd] =
    v === '1.13'
      ? [HOST_PYTHON, [script, ...args], opts.cwd]
      : [
          ORACLE,
          [
            'run',
            v,
            'sh',
            '-c',
            `cd "$1" && shift && exec env ${envList.map((e) => `'${e}'`).join(' ')} python3 "$@"`,
            'sh',
            torchPath(v, opts.cwd),
            torchPath(v, script),
            ...args,
          ],
          REPO_ROOT,
        ];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: v === '1.13' ? { ...process.env, ...(opts.env ?? {}) } : process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** runs a harness that reads a JSON list on stdin and prints a JSON list as its last line */
export async function runJsonHarness<T>(
  v: TorchVersion,
  script: string,
  cwd: string,
  items: unknown[],
  env?: Record<string, string>,
): Promise<{ results: T[]; stderr: string }> {
  const r = await runTorchPython(v, script, { cwd, stdin: JSON.stringify(items), env });
  let results: T[] = [];
  try {
    results = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as T[];
  } catch {
    /* the caller reports stderr */
  }
  return { results, stderr: r.stderr };
}
