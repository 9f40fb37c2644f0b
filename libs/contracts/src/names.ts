/**
 * The names the registry accepts, declared once: the API validates with them, the CLI checks arguments with them
 * before it reads a file, and the OpenAPI document (hence the Python client) states them.
 */

/** checkpoint names and versions: a letter or digit, then letters, digits, ".", "_" or "-" (128 in all) */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const NAME_RULE = 'a letter or digit followed by up to 127 letters, digits, ".", "_" or "-"';

/** path words that follow a checkpoint name and so cannot be version names */
export const RESERVED_VERSIONS: ReadonlySet<string> = new Set([
  'tags',
  'best-rule',
  'tag-history',
  'diff',
  'retention',
]);

/** tag names: lowercase letters, digits, ".", "_" or "-" (64 at most) */
export const TAG_PATTERN = /^[a-z0-9._-]{1,64}$/;

/** metric names: a letter or "_", then letters, digits, "_", "." or "-" (64 at most) */
export const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** what is wrong with a checkpoint name or version, or null when it is fine */
export function nameProblem(what: 'name' | 'version', v: string): string | null {
  if (!NAME_PATTERN.test(v)) return `${what} must be ${NAME_RULE}; got ${JSON.stringify(v.slice(0, 60))}`;
  if (what === 'version' && RESERVED_VERSIONS.has(v))
    return `"${v}" is a reserved word and cannot be a version name; choose another`;
  return null;
}

/**
 * A lineage parent as it may be written: VERSION (of the same checkpoint), NAME:VERSION or NAME/VERSION. Answers
 * the checkpoint (null for a bare VERSION: the one it is read in) and the version, or null when it is none of these.
 */
export function parentRef(v: string): { name: string | null; version: string } | null {
  const m = /^(?:([A-Za-z0-9][A-Za-z0-9._-]{0,127})[:/])?([A-Za-z0-9][A-Za-z0-9._-]{0,127})$/.exec(v);
  return m ? { name: m[1] ?? null, version: m[2] } : null;
}

export const PARENT_RULE = 'VERSION (of the same checkpoint), NAME:VERSION or NAME/VERSION';

/** a git commit as lineage gives it: 7 to 64 hexadecimal digits (a short SHA is a prefix of the full one) */
export const GIT_COMMIT_PATTERN = /^[0-9a-fA-F]{7,64}$/;
