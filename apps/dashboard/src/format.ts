import { h } from './dom.js';
import type { Verdict, VersionRecord } from './api.js';

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * A metric as a person reads it: 4 significant digits (0.9124, 12.35, 1.235e-5), whole numbers below a million as
 * they are. The exact value goes in a title where it matters.
 */
export function num(v: number): string {
  const a = Math.abs(v);
  if (!Number.isFinite(v) || (Number.isInteger(v) && a < 1e6)) return String(v);
  return a < 1e-3 || a >= 1e6 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 1.2M, 350K … for parameter counts */
export function short(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function when(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const secs = (Date.now() - d.getTime()) / 1000;
  if (secs < 60) return 'just now';
  if (secs < 3600) return `${Math.floor(secs / 60)} min ago`;
  if (secs < 86400) return `${Math.floor(secs / 3600)} h ago`;
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

export function timeEl(iso: string | null): HTMLElement {
  return iso ? h('time', { datetime: iso, title: iso }, when(iso)) : h('span', null, '—');
}

export type Status = Verdict | 'pending' | 'scanning' | 'failed';

/** a version's state: its verdict, or where its scan is */
export function statusOf(v: VersionRecord): Status {
  if (v.scan.status === 'done') return v.scan.verdict ?? 'unknown';
  return v.scan.status;
}

const LABEL: Record<Status, string> = {
  safe: 'safe',
  suspicious: 'suspicious',
  dangerous: 'dangerous',
  unknown: 'unknown',
  pending: 'pending',
  scanning: 'scanning…',
  failed: 'scan failed',
};

export function badge(status: Status): HTMLElement {
  return h('span', { class: `badge ${status}`, 'data-status': status }, LABEL[status]);
}

export function sha(hex: string): HTMLElement {
  return h('code', { class: 'sha', title: hex }, `${hex.slice(0, 12)}…`);
}

/** the token that did something, by the start of its id (admins see names on GET /tokens) */
/** who did it: the token's name */
export function tokenRef(name: string): HTMLElement {
  return h('span', { class: 'token', title: `the token named ${name}` }, `token ${name}`);
}
