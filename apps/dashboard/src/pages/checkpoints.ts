import { api, enc, ENDPOINTS, type CheckpointSummary, type VersionRecord } from '../api.js';
import { h, listTable, mount } from '../dom.js';
import { badge, count, timeEl } from '../format.js';
import type { PageContext } from '../page-context.js';

const PAGE = 50;
const VERDICTS = ['safe', 'suspicious', 'dangerous', 'unknown', 'pending'] as const;
/** the lineage filters: the address's parameter (the API's), its label and what the field takes */
const LINEAGE = [
  {
    key: 'gitCommit',
    label: 'Git commit',
    attrs: {
      pattern: '[0-9a-fA-F]{7,64}',
      placeholder: '7+ hex digits',
      title: '7 to 64 hex digits (a prefix)',
    },
  },
  { key: 'parent', label: 'Parent', attrs: { placeholder: 'NAME:VERSION' } },
  { key: 'dataset', label: 'Dataset', attrs: { placeholder: 'dataset' } },
] as const;
type LineageKey = (typeof LINEAGE)[number]['key'];

/** every checkpoint with its latest and best versions and how many versions have each verdict */
export async function checkpointsPage(ctx: PageContext): Promise<void> {
  const q = ctx.query.get('q') ?? '';
  const verdict = ctx.query.get('verdict') ?? '';
  const lineage: Partial<Record<LineageKey, string>> = {};
  for (const f of LINEAGE) {
    const v = ctx.query.get(f.key)?.trim();
    if (v) lineage[f.key] = v;
  }
  const byLineage = Object.keys(lineage).length > 0;
  const items: CheckpointSummary[] = [];
  let next: string | null = null;
  // with a lineage filter: the matching versions of each listed checkpoint, newest first
  const matches = new Map<string, VersionRecord[]>();
  const addMatches = (found: VersionRecord[] | null) => {
    for (const m of found ?? []) matches.set(m.name, [...(matches.get(m.name) ?? []), m]);
  };

  const fetchPage = (after: string | null, limit = PAGE) =>
    api(ENDPOINTS.listCheckpoints, {
      query: {
        limit,
        q: q || undefined,
        // a verdict from the address goes as it is: the API says what it accepts
        verdict: (verdict || undefined) as (typeof VERDICTS)[number] | undefined,
        after: after ?? undefined,
        ...lineage,
      },
    });

  const search = h('input', { type: 'search', id: 'q', name: 'q', value: q, placeholder: 'name contains…' });
  const select = h(
    'select',
    { id: 'verdict', name: 'verdict' },
    h('option', { value: '' }, 'any verdict'),
    VERDICTS.map((v) => h('option', { value: v, selected: v === verdict }, `has ${v} versions`)),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const p = new URLSearchParams();
        if (search.value.trim()) p.set('q', search.value.trim());
        if (select.value) p.set('verdict', select.value);
        location.hash = `#/?${p}`;
      },
    },
    h('label', { for: 'q' }, 'Search'),
    search,
    h('label', { for: 'verdict' }, 'Filter'),
    select,
    h('button', { type: 'submit' }, 'Apply'),
  );
  select.addEventListener('change', () => form.requestSubmit());

  // the lineage filter: the checkpoints with a version from that commit, parent or dataset, and those versions
  const lineageInputs = LINEAGE.map((f) =>
    h('input', {
      type: 'search',
      id: `lineage-${f.key}`,
      name: f.key,
      value: lineage[f.key] ?? '',
      ...f.attrs,
    }),
  );
  const lineageForm = h(
    'form',
    {
      class: 'filters',
      id: 'lineage-filter',
      role: 'search',
      'aria-label': 'Filter by lineage',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const p = new URLSearchParams();
        if (q) p.set('q', q);
        if (verdict) p.set('verdict', verdict);
        LINEAGE.forEach((f, i) => {
          if (lineageInputs[i].value.trim()) p.set(f.key, lineageInputs[i].value.trim());
        });
        location.hash = `#/?${p}`;
      },
    },
    h('span', { class: 'muted' }, 'Lineage'),
    LINEAGE.flatMap((f, i) => [h('label', { for: `lineage-${f.key}` }, f.label), lineageInputs[i]]),
    h('button', { type: 'submit' }, 'Find'),
    byLineage ? h('a', { href: '#/', id: 'lineage-clear' }, 'clear') : null,
  );

  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show more');
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const draw = () => {
    mount(
      tbody,
      items.map((c) =>
        h(
          'tr',
          { 'data-checkpoint': c.name },
          h('th', { scope: 'row' }, h('a', { href: `#/checkpoints/${enc(c.name)}` }, c.name)),
          h(
            'td',
            null,
            c.latest ? h('a', { href: `#/checkpoints/${enc(c.name)}/${enc(c.latest)}` }, c.latest) : '—',
          ),
          h(
            'td',
            null,
            c.best ? h('a', { href: `#/checkpoints/${enc(c.name)}/${enc(c.best)}` }, c.best) : '—',
          ),
          h('td', { class: 'num' }, count(c.versions)),
          h('td', null, timeEl(c.lastUpload)),
          h(
            'td',
            { class: 'counts' },
            VERDICTS.filter((v) => c.verdicts[v] > 0).map((v) =>
              h('span', { class: 'count', title: `${c.verdicts[v]} ${v}` }, badge(v), ` ${c.verdicts[v]}`),
            ),
          ),
          byLineage
            ? h(
                'td',
                { class: 'matches' },
                (matches.get(c.name) ?? []).flatMap((m, i) => [
                  i ? ', ' : '',
                  h('a', { href: `#/checkpoints/${enc(c.name)}/${enc(m.version)}` }, m.version),
                ]),
              )
            : null,
        ),
      ),
    );
    more.hidden = next === null;
    status.textContent = items.length
      ? `${items.length}${next ? '+' : ''} checkpoint${items.length === 1 ? '' : 's'}`
      : q || verdict || byLineage
        ? 'No checkpoint matches this search.'
        : 'No checkpoints yet. Push one with `brine push FILE --name N --version V`.';
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const r = await fetchPage(next);
      items.push(...r.items);
      addMatches(r.matches);
      next = r.next;
      draw();
    } catch (e) {
      ctx.notice((e as Error).message);
    } finally {
      more.disabled = false;
    }
  });

  const first = await fetchPage(null);
  items.push(...first.items);
  addMatches(first.matches);
  next = first.next;
  mount(
    ctx.main,
    h('h1', null, 'Checkpoints'),
    form,
    lineageForm,
    status,
    listTable(
      [
        'Name',
        'Latest',
        'Best',
        'Versions',
        'Last upload',
        'Verdicts',
        ...(byLineage ? ['Matching versions'] : []),
      ],
      tbody,
      { caption: 'Checkpoints, their latest and best versions and verdict counts' },
    ),
    more,
  );
  draw();

  // new uploads appear and pending scans turn into verdicts without a reload
  ctx.every(2500, async () => {
    const r = await fetchPage(null, Math.min(Math.max(items.length, PAGE), 500));
    if (ctx.left) return false;
    items.splice(0, items.length, ...r.items);
    matches.clear();
    addMatches(r.matches);
    if (next !== null) next = r.next;
    draw();
  });
}
