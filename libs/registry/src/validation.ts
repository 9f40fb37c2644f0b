import { BadRequestException } from '@nestjs/common';
import type { Scope } from '@brine/persistence';
import { METRIC_NAME, nameProblem } from '@brine/contracts';

/** Everything that arrives from outside is checked here, with a message that says what to send instead. */

export { METRIC_NAME, NAME_PATTERN, RESERVED_VERSIONS, TAG_PATTERN } from '@brine/contracts';

function shown(v: string): string {
  const s = v.length > 60 ? `${v.slice(0, 60)}…` : v;
  return JSON.stringify(s);
}

export function checkName(what: 'name' | 'version', v: string): string {
  const problem = nameProblem(what, v);
  if (problem) throw new BadRequestException(problem);
  return v;
}

export function checkSha256(header: string | undefined, what = 'x-checksum-sha256'): string | null {
  if (header === undefined || header === '') return null;
  const v = header.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(v))
    throw new BadRequestException(
      `${what} must be 64 hexadecimal characters (a SHA-256); got ${shown(header)}`,
    );
  return v;
}

export function checkFilename(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  let v: string;
  try {
    v = decodeURIComponent(header);
  } catch {
    throw new BadRequestException('x-brine-filename must be percent-encoded UTF-8');
  }
  if (v.length > 255 || /[/\\\0-\x1f\x7f]/.test(v) || v === '.' || v === '..') {
    throw new BadRequestException(
      `x-brine-filename must be a file name without folders or control characters (at most 255); got ${shown(v)}`,
    );
  }
  return v;
}

export function checkFrameworkVersion(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  if (!/^[A-Za-z0-9._+ -]{1,64}$/.test(header)) {
    throw new BadRequestException(
      `x-brine-framework-version must be up to 64 letters, digits, ".", "+", "-" or spaces (like "torch 2.6.0"); got ${shown(header)}`,
    );
  }
  return header;
}

const MAX_METADATA = 16 * 1024;

export function checkMetadata(header: string | undefined): Record<string, unknown> {
  if (header === undefined || header === '') return {};
  if (header.length > MAX_METADATA)
    throw new BadRequestException(`x-brine-metadata must be at most ${MAX_METADATA} bytes of JSON`);
  let v: unknown;
  try {
    v = JSON.parse(header);
  } catch {
    throw new BadRequestException('x-brine-metadata must be a JSON object, e.g. {"dataset":"imagenet"}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BadRequestException('x-brine-metadata must be a JSON object, e.g. {"dataset":"imagenet"}');
  }
  checkJsonb(v, 'x-brine-metadata');
  return v as Record<string, unknown>;
}

/** text PostgreSQL's jsonb cannot hold: NUL, or a UTF-16 surrogate without its pair */
const JSONB_UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Checks a parsed JSON value against what PostgreSQL's jsonb accepts before anything is written, so a bad value is
 * a 400 that says what to change rather than a failed write: no NUL characters, no unpaired surrogates in keys or
 * strings, and at most 32 levels of nesting.
 */
export function checkJsonb(v: unknown, what: string, depth = 0): void {
  if (depth > 32) throw new BadRequestException(`${what} nests deeper than 32 levels`);
  const bad = (s: string) => {
    if (JSONB_UNSAFE.test(s))
      throw new BadRequestException(
        `${what} holds a NUL character or an unpaired UTF-16 surrogate (${shown(s)}), which PostgreSQL cannot store; remove it`,
      );
  };
  if (typeof v === 'string') bad(v);
  else if (Array.isArray(v)) for (const x of v) checkJsonb(x, what, depth + 1);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      bad(k);
      checkJsonb(x, what, depth + 1);
    }
  }
}

/** metrics are numbers only: {"val_loss": 0.231, "epoch": 12} */
export function checkMetrics(v: unknown, where: string): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new BadRequestException(
      `${where} must be a JSON object of numbers, e.g. {"val_loss": 0.231, "epoch": 12}`,
    );
  }
  const out: Record<string, number> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [k] of entries) checkJsonb(k, where);
  if (entries.length > 64) throw new BadRequestException(`${where} may hold at most 64 metrics`);
  for (const [k, x] of entries) {
    if (!METRIC_NAME.test(k))
      throw new BadRequestException(
        `metric names must start with a letter or "_" and hold letters, digits, "_", ".", "-" (at most 64); got ${shown(k)}`,
      );
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new BadRequestException(
        `metric ${shown(k)} must be a finite number; got ${shown(JSON.stringify(x) ?? String(x))}`,
      );
    }
    out[k] = x;
  }
  return out;
}

export function parseMetricsHeader(header: string | undefined): Record<string, number> {
  if (header === undefined || header === '') return {};
  if (header.length > MAX_METADATA)
    throw new BadRequestException(`x-brine-metrics must be at most ${MAX_METADATA} bytes of JSON`);
  let v: unknown;
  try {
    v = JSON.parse(header);
  } catch {
    throw new BadRequestException(
      'x-brine-metrics must be a JSON object of numbers, e.g. {"val_loss": 0.231, "epoch": 12}',
    );
  }
  return checkMetrics(v, 'x-brine-metrics');
}

const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

export function checkScopes(v: unknown): Scope[] {
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    !v.every((s) => typeof s === 'string' && (SCOPES as string[]).includes(s))
  ) {
    throw new BadRequestException(`scopes must be a non-empty list drawn from ${SCOPES.join(', ')}`);
  }
  return [...new Set(v as Scope[])];
}

/** "module.Name" as add_safe_globals keys it */
export function checkGlobalName(v: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(v) || v.length > 256) {
    throw new BadRequestException(
      `a safe global must be a dotted name like "argparse.Namespace"; got ${shown(v)}`,
    );
  }
  return v;
}

export function checkTokenName(v: unknown): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(v)) {
    throw new BadRequestException(
      'name must be 1-64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit',
    );
  }
  return v;
}

/** ?limit= with a default and a ceiling */
export function checkLimit(v: string | undefined, fallback = 50, max = 500): number {
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max)
    throw new BadRequestException(`limit must be a whole number from 1 to ${max}`);
  return Number(v);
}
