/**
 * A version's manifest: the files it holds, by relative POSIX path, with their sizes and SHA-256s. Every path is
 * checked here, at the edge, before anything is stored or joined to a folder: a path that could leave the folder,
 * collide with another on a case-insensitive or normalising file system, or smuggle control characters is refused
 * with a message that says what to fix (it becomes the 400's message).
 */

export interface ManifestEntry {
  /** relative POSIX path inside the version's folder, e.g. `checkpoint-6/optimizer.pt` */
  path: string;
  size: number;
  /** 64 lowercase hex digits */
  sha256: string;
}

export interface ManifestLimits {
  /** path segments, the file name included */
  maxDepth: number;
  maxFiles: number;
  /** UTF-8 bytes of one path */
  maxPathBytes: number;
}

export const DEFAULT_MANIFEST_LIMITS: Readonly<ManifestLimits> = Object.freeze({
  maxDepth: 16,
  maxFiles: 10_000,
  maxPathBytes: 1024,
});

export interface ManifestProblem {
  /** the entry's index in the manifest, or null for the manifest as a whole */
  index: number | null;
  /** the path as sent (when it was a string) */
  path: string | null;
  /** stable identifier, e.g. `path-dotdot`, `path-collision` */
  rule: string;
  /** what is wrong and what to do about it */
  message: string;
}

export type ManifestCheck =
  { ok: true; entries: ManifestEntry[] } | { ok: false; problems: ManifestProblem[]; message: string };

const SHA256 = /^[0-9a-f]{64}$/;
/** C0 controls, DEL and C1 controls: never part of a file name a person typed */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** `C:` or `c:foo`: absolute (or drive-relative) on Windows, where a pulled folder may land */
const DRIVE = /^[A-Za-z]:/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** how two paths compare on a case-insensitive, normalising file system (APFS, NTFS, a pull on macOS) */
export function collisionKey(path: string): string {
  // toUpperCase().toLowerCase() folds what toLowerCase alone misses (ß -> SS -> ss, the Kelvin sign -> k)
  return path.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

function show(s: string): string {
  return JSON.stringify(s);
}

/** the problems of one path (empty when it is a plain relative POSIX path within the limits) */
export function pathProblems(
  path: string,
  limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS,
): Omit<ManifestProblem, 'index'>[] {
  const out: Omit<ManifestProblem, 'index'>[] = [];
  const add = (rule: string, message: string): void => {
    out.push({ path, rule, message: `${show(path)}: ${message}` });
  };
  if (path.length === 0) {
    add(
      'path-empty',
      'the path is empty; give the file its path relative to the folder, e.g. "model.safetensors"',
    );
    return out;
  }
  if (LONE_SURROGATE.test(path)) {
    add('path-encoding', 'the path is not valid Unicode (a lone surrogate); send it as UTF-8 text');
    return out;
  }
  if (path.includes('\u0000')) add('path-nul', 'the path contains a NUL character; remove it');
  else if (CONTROL.test(path))
    add('path-control', 'the path contains a control character (newline, tab, escape …); rename the file');
  if (path.includes('\\'))
    add('path-backslash', 'the path contains a backslash; use "/" between folders and no "\\" in names');
  if (path.startsWith('/'))
    add('path-absolute', 'the path is absolute; give it relative to the folder, without the leading "/"');
  else if (DRIVE.test(path))
    add('path-absolute', 'the path starts with a drive letter; give it relative to the folder');
  const segments = path.split('/');
  if (segments.includes('..'))
    add(
      'path-dotdot',
      'the path has a ".." segment, which leaves its folder; give the path inside the folder',
    );
  if (segments.includes('.')) add('path-dot', 'the path has a "." segment; remove it ("a/./b" is "a/b")');
  // a leading "/" is already reported as absolute: an empty first segment is not reported twice
  if (segments.slice(path.startsWith('/') ? 1 : 0).some((s) => s === ''))
    add(
      'path-empty-segment',
      'the path has an empty segment ("//" or a trailing "/"); name files, not folders',
    );
  if (segments.length > limits.maxDepth)
    add(
      'path-depth',
      `the path is ${segments.length} levels deep; at most ${limits.maxDepth} are accepted (flatten the folder)`,
    );
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > limits.maxPathBytes)
    add(
      'path-length',
      `the path is ${bytes} bytes long; at most ${limits.maxPathBytes} are accepted (shorten it)`,
    );
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks a manifest: every path a plain relative POSIX path within the limits, no two paths that one file system
 * would confuse (NFC normalisation and case folding), no file that is also a folder of another, sizes and SHA-256s
 * well formed. Reports every problem at once.
 */
export function checkManifest(
  entries: readonly ManifestEntry[] | unknown,
  limits: Partial<ManifestLimits> = {},
): ManifestCheck {
  const lim: ManifestLimits = { ...DEFAULT_MANIFEST_LIMITS, ...limits };
  const problems: ManifestProblem[] = [];
  const fail = (): ManifestCheck => ({
    ok: false,
    problems,
    message:
      problems.length === 1
        ? problems[0].message
        : `${problems.length} problems: ${problems
            .slice(0, 5)
            .map((p) => p.message)
            .join('; ')}${problems.length > 5 ? '; …' : ''}`,
  });
  if (!Array.isArray(entries)) {
    problems.push({
      index: null,
      path: null,
      rule: 'manifest-shape',
      message: 'the manifest must be a list of {path, size, sha256}',
    });
    return fail();
  }
  if (entries.length === 0) {
    problems.push({
      index: null,
      path: null,
      rule: 'manifest-empty',
      message: 'the manifest lists no files; a version holds at least one',
    });
    return fail();
  }
  if (entries.length > lim.maxFiles) {
    problems.push({
      index: null,
      path: null,
      rule: 'manifest-count',
      message: `the manifest lists ${entries.length} files; at most ${lim.maxFiles} are accepted in one version`,
    });
    return fail();
  }
  const seen = new Map<string, { index: number; path: string }>();
  const valid: ManifestEntry[] = [];
  entries.forEach((e: unknown, index) => {
    if (!isRecord(e) || typeof e.path !== 'string') {
      problems.push({
        index,
        path: null,
        rule: 'entry-shape',
        message: `entry ${index}: give {path, size, sha256} with path a string`,
      });
      return;
    }
    const path = e.path;
    const before = problems.length;
    for (const p of pathProblems(path, lim)) problems.push({ index, ...p });
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0)
      problems.push({
        index,
        path,
        rule: 'size',
        message: `${show(path)}: size must be a whole number of bytes, 0 or more (got ${JSON.stringify(e.size) ?? 'nothing'})`,
      });
    if (typeof e.sha256 !== 'string' || !SHA256.test(e.sha256))
      problems.push({
        index,
        path,
        rule: 'sha256',
        message: `${show(path)}: sha256 must be 64 lowercase hex digits (got ${JSON.stringify(e.sha256) ?? 'nothing'})`,
      });
    if (problems.length > before) return;
    const key = collisionKey(path);
    const other = seen.get(key);
    if (other) {
      problems.push({
        index,
        path,
        rule: other.path === path ? 'path-duplicate' : 'path-collision',
        message:
          other.path === path
            ? `${show(path)} is listed twice (entries ${other.index} and ${index}); list each file once`
            : `${show(other.path)} and ${show(path)} are the same file once Unicode is normalised and case ignored ` +
              `(as macOS and Windows do); rename one`,
      });
      return;
    }
    seen.set(key, { index, path });
    valid.push({ path, size: e.size as number, sha256: e.sha256 as string });
  });
  // a path that is a file and also a folder of another file cannot be written out
  for (const [key, v] of seen) {
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = seen.get(parts.slice(0, i).join('/'));
      if (folder)
        problems.push({
          index: v.index,
          path: v.path,
          rule: 'path-file-is-folder',
          message: `${show(folder.path)} is a file, but ${show(v.path)} uses it as a folder; rename one`,
        });
    }
  }
  return problems.length > 0 ? fail() : { ok: true, entries: valid };
}
