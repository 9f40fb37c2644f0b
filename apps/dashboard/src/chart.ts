import type { VersionRecord } from './api.js';
import { s } from './dom.js';
import { num, statusOf } from './format.js';

const W = 760;
const H = 260;
const PAD = { left: 64, right: 24, top: 24, bottom: 48 };
/** room between the value labels and the first point */
const INSET = 24;

/**
 * A metric across versions, oldest first. Safe versions are joined by a line; versions that are not safe are drawn
 * as crossed-out grey marks off the line (never candidates for `best`); the `best` version is ringed and labelled.
 */
export function metricChart(versions: VersionRecord[], metric: string, best: string | null): SVGElement {
  const points = versions
    .filter((v) => typeof v.metrics[metric] === 'number')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const values = points.map((v) => v.metrics[metric]);
  const axis = niceTicks(Math.min(...values), Math.max(...values));
  const { lo, hi } = axis;
  const span = W - PAD.left - PAD.right - 2 * INSET;
  const x = (i: number) =>
    PAD.left + INSET + (points.length === 1 ? span / 2 : (i * span) / (points.length - 1));
  const y = (v: number) => PAD.top + ((hi - v) * (H - PAD.top - PAD.bottom)) / (hi - lo);

  const safe = points.map((v, i) => ({ v, i })).filter(({ v }) => statusOf(v) === 'safe');
  const line = safe
    .map(({ v, i }, k) => `${k ? 'L' : 'M'}${x(i).toFixed(1)},${y(v.metrics[metric]).toFixed(1)}`)
    .join('');
  const excluded = points.filter((v) => statusOf(v) !== 'safe').length;

  return s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      class: 'chart',
      role: 'img',
      'aria-label': `${metric} across ${points.length} versions; best is ${best ?? 'not set'}; ${excluded} version(s) not safe and excluded`,
    },
    axis.ticks.map((t, i) =>
      s(
        'g',
        { class: 'tick' },
        s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t) }),
        s('text', { x: PAD.left - 8, y: y(t) + 4, 'text-anchor': 'end' }, axis.labels[i]),
      ),
    ),
    s('text', { x: 12, y: PAD.top - 8, class: 'axis-label' }, metric),
    line ? s('path', { d: line, class: 'series' }) : null,
    points.map((v, i) => {
      const st = statusOf(v);
      const cx = x(i);
      const cy = y(v.metrics[metric]);
      const isBest = v.version === best;
      const title = s(
        'title',
        null,
        `${v.version}: ${metric} = ${num(v.metrics[metric])} (${st}${isBest ? ', best' : ''})`,
      );
      const label = s(
        'text',
        { x: cx, y: H - PAD.bottom + 18, 'text-anchor': 'middle', class: 'x-label' },
        v.version,
      );
      if (st === 'safe')
        return s(
          'g',
          {
            class: `point safe${isBest ? ' best' : ''}`,
            'data-version': v.version,
            'data-best': isBest ? 'true' : null,
          },
          title,
          isBest ? s('circle', { cx, cy, r: 11, class: 'best-ring' }) : null,
          s('circle', { cx, cy, r: 5 }),
          isBest
            ? s('text', { x: cx, y: cy - 16, 'text-anchor': 'middle', class: 'best-label' }, '★ best')
            : null,
          label,
        );
      if (st === 'pending' || st === 'scanning')
        return s(
          'g',
          { class: 'point pending', 'data-version': v.version },
          title,
          s('circle', { cx, cy, r: 5 }),
          label,
        );
      return s(
        'g',
        { class: `point excluded ${st}`, 'data-version': v.version, 'data-excluded': 'true' },
        title,
        s('path', { d: `M${cx - 6},${cy - 6}L${cx + 6},${cy + 6}M${cx - 6},${cy + 6}L${cx + 6},${cy - 6}` }),
        s('text', { x: cx, y: cy - 12, 'text-anchor': 'middle', class: 'excluded-label' }, `${st}, excluded`),
        label,
      );
    }),
  );
}

/**
 * An axis from lo to hi in round steps (1, 2 or 5 times a power of ten, about `count` ticks), widened to whole
 * steps, with labels printed at the step's precision so no two ticks read the same.
 */
export function niceTicks(
  min: number,
  max: number,
  count = 5,
): { lo: number; hi: number; ticks: number[]; labels: string[] } {
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / (count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((x) => x >= raw * (1 - 1e-9)) ?? 10 * magnitude;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks = Array.from({ length: last - first + 1 }, (_, k) => (first + k) * step);
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  const largest = Math.max(...ticks.map(Math.abs));
  const exponential = decimals > 6 || largest >= 1e6;
  // in exponential form: as many mantissa digits as the step needs below the largest tick's leading digit
  const digits = Math.min(
    20,
    Math.max(0, Math.floor(Math.log10(largest || 1)) - Math.floor(Math.log10(step) + 1e-9)),
  );
  const labels = ticks.map((t) => (exponential ? t.toExponential(digits) : t.toFixed(decimals)));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], ticks, labels };
}
