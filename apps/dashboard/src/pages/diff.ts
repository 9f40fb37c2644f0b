import { api, enc, ENDPOINTS } from '../api.js';
import { h, mount } from '../dom.js';
import { badge } from '../format.js';
import type { PageContext } from '../page-context.js';

/** Two versions compared: what the tensors, imports and verdicts did between them (from their scan reports). */
export async function diffPage(ctx: PageContext): Promise<void> {
  const [name] = ctx.params;
  const here = `#/checkpoints/${enc(name)}`; // this checkpoint's page in the dashboard
  const listing = await api(ENDPOINTS.getCheckpoint, {
    params: { name },
    query: { sort: 'created', order: 'asc', limit: 500 },
  });
  const versions = listing.versions.map((v) => v.version);
  const from = ctx.query.get('from') ?? versions[versions.length - 2] ?? '';
  const to = ctx.query.get('to') ?? versions[versions.length - 1] ?? '';
  const pick = (id: string, label: string, value: string) => {
    const select = h(
      'select',
      { id },
      versions.map((v) => h('option', { value: v, selected: v === value }, v)),
    );
    return { select, label: h('label', { for: id }, `${label} `) };
  };
  const a = pick('diff-from', 'From', from);
  const b = pick('diff-to', 'to', to);
  const go = h('button', { type: 'button', class: 'primary', id: 'diff-go' }, 'Compare');
  go.addEventListener('click', () => {
    location.hash = `${here}/diff?from=${enc(a.select.value)}&to=${enc(b.select.value)}`;
  });
  const result = h('div', { id: 'diff', 'aria-live': 'polite' });
  mount(
    ctx.main,
    h(
      'nav',
      { class: 'crumbs' },
      h('a', { href: '#/' }, 'Checkpoints'),
      ' / ',
      h('a', { href: here }, name),
      ' / diff',
    ),
    h('h1', null, `Compare versions of ${name}`),
    h('div', { class: 'actions' }, a.label, a.select, ' ', b.label, b.select, ' ', go),
    result,
  );
  if (!from || !to) {
    mount(result, h('p', { class: 'muted' }, 'Two versions are needed to compare.'));
    return;
  }
  const d = await api(ENDPOINTS.diff, { params: { name }, query: { from, to } });
  if (ctx.left) return;
  const list = (title: string, id: string, items: Array<string | HTMLElement>, total: number) =>
    h(
      'section',
      { class: 'card', id },
      h('h2', null, `${title} (${total})`),
      items.length
        ? h(
            'ul',
            null,
            items.map((x) => h('li', null, x)),
          )
        : h('p', { class: 'muted' }, 'None.'),
      total > items.length ? h('p', { class: 'muted' }, `and ${total - items.length} more`) : null,
    );
  const code = (s: string) => h('code', null, s);
  const tag = (cls: string) => h('span', { class: `badge ${cls}` }, cls);
  mount(
    result,
    h(
      'section',
      { class: 'card', id: 'diff-summary' },
      h('h2', null, `${d.from} → ${d.to}`),
      h('p', null, 'Verdict ', badge(d.verdict.from), ' → ', badge(d.verdict.to)),
      h(
        'ul',
        null,
        d.summary.map((s) => h('li', null, s)),
      ),
      h(
        'p',
        { class: 'muted' },
        `Parameters ${d.parameters.from.toLocaleString()} → ${d.parameters.to.toLocaleString()} (${d.parameters.delta >= 0 ? '+' : ''}${d.parameters.delta.toLocaleString()}). `,
        'Tensor values are compared through the storage records’ CRC-32 and sizes; no tensor data is read.',
      ),
      d.complete ? null : h('p', { class: 'muted' }, `Incomplete: ${d.incompleteBecause.join('; ')}.`),
    ),
    list(
      'Imports added',
      'diff-imports',
      d.imports.added.map((i) => h('span', null, code(`${i.module}.${i.name}`), ' ', tag(i.class))),
      d.imports.added.length,
    ),
    list('Tensors with new values', 'diff-bytes', d.tensors.bytesChanged.map(code), d.counts.bytesChanged),
    list(
      'Tensors whose dtype or shape changed',
      'diff-reshaped',
      d.tensors.reshaped.map((t) =>
        h(
          'span',
          null,
          code(t.name),
          ` ${t.from.dtype}[${t.from.shape.join(', ')}] → ${t.to.dtype}[${t.to.shape.join(', ')}]`,
        ),
      ),
      d.counts.reshaped,
    ),
    list(
      'Tensors added',
      'diff-added',
      d.tensors.added.map((t) => code(t.name)),
      d.counts.added,
    ),
    list(
      'Tensors removed',
      'diff-removed',
      d.tensors.removed.map((t) => code(t.name)),
      d.counts.removed,
    ),
    list(
      'Findings added',
      'diff-findings',
      d.findings.added.map((f) => h('span', null, tag(f.severity), ' ', code(f.rule), ` ${f.message}`)),
      d.findings.added.length,
    ),
  );
}
