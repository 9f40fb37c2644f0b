import {
  api,
  enc,
  ENDPOINTS,
  TORCH_VERSIONS,
  type RetentionLogEntry,
  type RetentionPlan,
  type VersionRecord,
} from '../api.js';
import { metricChart } from '../chart.js';
import { h, listTable, mount } from '../dom.js';
import { badge, bytes, num, sha, statusOf, timeEl, tokenRef } from '../format.js';
import type { PageContext } from '../page-context.js';
import { cardSection } from '../card.js';

const PAGE = 25;

/** one checkpoint: its versions, a metric chart with the best version marked, and the tag history */
export async function checkpointPage(ctx: PageContext): Promise<void> {
  const [name] = ctx.params;
  const here = `#/checkpoints/${enc(name)}`; // this checkpoint's page in the dashboard
  const params = { name };
  const load = async () => {
    const [page, all, history, rule, retention, deleted, tags] = await Promise.all([
      api(ENDPOINTS.getCheckpoint, { params, query: { limit: Math.max(shown, PAGE) } }),
      api(ENDPOINTS.getCheckpoint, { params, query: { sort: 'created', order: 'asc', limit: 500 } }),
      api(ENDPOINTS.tagHistory, { params, query: { limit: 100 } }),
      api(ENDPOINTS.getBestRule, { params }),
      api(ENDPOINTS.getRetention, { params }),
      api(ENDPOINTS.retentionLog, { params, query: { limit: 100 } }),
      api(ENDPOINTS.listTags, { params }),
    ]);
    // the tags moved by hand that a best rule leaves where they are (a hand-moved best)
    const pinned = new Set(tags.filter((t) => t.pinned).map((t) => t.tag));
    return { page, all, history, rule: rule.rule, retention, deleted, pinned };
  };
  let shown = PAGE;
  let data = await load();

  const metricNames = () => [...new Set(data.all.versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  let metric = ctx.query.get('metric') ?? data.rule?.metric ?? metricNames()[0] ?? '';

  const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
  const chartBox = h('section', { class: 'card', 'aria-labelledby': 'chart-h' });
  const versionsBody = h('tbody');
  const more = h('button', { type: 'button', class: 'more' }, 'Show more versions');
  const historyBox = h('section', { class: 'card', id: 'history', 'aria-labelledby': 'history-h' });
  const retentionBox = h('section', { class: 'card', id: 'retention', 'aria-labelledby': 'retention-h' });

  const draw = () => {
    const c = data.page.checkpoint;
    const best = c.best;
    mount(
      summary,
      `${c.versions} version${c.versions === 1 ? '' : 's'} · latest `,
      c.latest ? h('a', { href: `${here}/${enc(c.latest)}` }, c.latest) : '—',
      ' · best ',
      best ? h('a', { href: `${here}/${enc(best)}` }, best) : 'not set',
      best && data.pinned.has('best')
        ? [
            ' ',
            h(
              'span',
              {
                class: 'pinned',
                id: 'best-pinned',
                title:
                  'moved by hand: the best rule leaves it here until the rule is set again or the tag is deleted',
              },
              'pinned',
            ),
          ]
        : '',
      data.rule ? ` (${data.rule.mode} ${data.rule.metric}, safe versions only)` : ' (no best rule)',
      c.versions > 1 ? [' · ', h('a', { href: `${here}/diff`, id: 'compare' }, 'compare versions')] : '',
    );

    const names = metricNames();
    const select = h(
      'select',
      { id: 'metric' },
      names.map((m) => h('option', { value: m, selected: m === metric }, m)),
    );
    select.addEventListener('change', () => {
      metric = select.value;
      draw();
      document.getElementById('metric')?.focus();
    });
    mount(
      chartBox,
      h('h2', { id: 'chart-h' }, 'Metric across versions'),
      names.length
        ? [
            h('label', { for: 'metric' }, 'Metric '),
            select,
            metricChart(data.all.versions, metric, best),
            h(
              'p',
              { class: 'legend muted' },
              h('span', { class: 'key safe' }, '●'),
              ' safe  ',
              h('span', { class: 'key best' }, '◎'),
              ' best  ',
              h('span', { class: 'key excluded' }, '✕'),
              ' not safe: excluded from best  ',
              h('span', { class: 'key pending' }, '○'),
              ' scan pending',
            ),
          ]
        : h(
            'p',
            { class: 'muted' },
            'No version has metrics. Add them with the x-brine-metrics header or PATCH.',
          ),
    );

    mount(
      versionsBody,
      data.page.versions.map((v) =>
        h(
          'tr',
          { 'data-version': v.version },
          h('th', { scope: 'row' }, h('a', { href: `${here}/${enc(v.version)}` }, v.version)),
          h(
            'td',
            null,
            v.tags.map((t) =>
              h(
                'span',
                {
                  class: `tag${t === 'best' ? ' best' : ''}${data.pinned.has(t) ? ' pinned' : ''}`,
                  ...(data.pinned.has(t)
                    ? { title: `${t} was moved by hand: the best rule leaves it here (pinned)` }
                    : {}),
                },
                data.pinned.has(t) ? `${t} (pinned)` : t,
              ),
            ),
          ),
          h('td', null, badge(statusOf(v))),
          h('td', { class: 'wo' }, weightsOnlyCells(v)),
          h('td', null, v.scan.format ? `${v.scan.format} / ${v.scan.kind}` : '—'),
          h('td', { class: 'num' }, bytes(v.size)),
          h('td', null, sha(v.sha256)),
          h(
            'td',
            null,
            timeEl(v.createdAt),
            v.uploadedBy ? h('span', { class: 'muted' }, ' by ', tokenRef(v.uploadedBy)) : null,
          ),
          h(
            'td',
            { class: 'metrics' },
            Object.entries(v.metrics).map(([k, x]) =>
              h('span', { class: 'metric', title: `${k} = ${x}` }, `${k}=${num(x)}`),
            ),
          ),
        ),
      ),
    );
    more.hidden = data.page.next === null;

    // a version of the history that retention deleted (the API marks it: deletedByRetention)
    const versionCell = (version: string | null, none: string, byRetention: boolean) =>
      version === null
        ? none
        : byRetention
          ? h(
              'span',
              { class: 'deleted-version', title: `${version} was deleted by the retention rule` },
              h('del', null, version),
              ' (deleted by retention)',
            )
          : version;
    mount(
      historyBox,
      h('h2', { id: 'history-h' }, 'Tag history'),
      data.history.length
        ? listTable(
            ['When', 'Tag', 'From', 'To', 'By', 'Why'],
            h(
              'tbody',
              null,
              data.history.map((m) =>
                h(
                  'tr',
                  null,
                  h('td', null, timeEl(m.at)),
                  h('td', null, h('span', { class: `tag${m.tag === 'best' ? ' best' : ''}` }, m.tag)),
                  h('td', null, versionCell(m.from, '—', m.deletedByRetention.from)),
                  h('td', null, versionCell(m.to, '(removed)', m.deletedByRetention.to)),
                  h('td', null, m.actor === 'manual' ? (m.token ?? 'a token') : m.actor),
                  h('td', null, m.reason),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No tag has moved yet.'),
    );
    mount(retentionBox, retentionParts(data.retention, data.deleted));
  };

  more.addEventListener('click', async () => {
    shown += PAGE;
    more.disabled = true;
    try {
      data = await load();
      draw();
    } catch (e) {
      ctx.notice((e as Error).message);
    } finally {
      more.disabled = false;
    }
  });

  mount(
    ctx.main,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, 'Checkpoints'),
      ' / ',
      name,
    ),
    h('h1', null, name),
    summary,
    cardSection(api(ENDPOINTS.getCheckpointCard, { params })),
    chartBox,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'versions-h' },
      h('h2', { id: 'versions-h' }, 'Versions'),
      listTable(
        [
          'Version',
          'Tags',
          'Verdict',
          'weights_only 1.13 · 2.6 · 2.14',
          'Format / kind',
          'Size',
          'SHA-256',
          'Uploaded',
          'Metrics',
        ],
        versionsBody,
        { class: 'versions' },
      ),
      more,
    ),
    historyBox,
    retentionBox,
  );
  draw();

  // every 2 s while a scan is pending, every 10 s otherwise (new uploads, tag moves)
  let tick = 0;
  ctx.every(2000, async () => {
    const busy =
      data.page.checkpoint.verdicts.pending > 0 ||
      data.all.versions.some((v) => v.scan.status === 'pending' || v.scan.status === 'scanning');
    if (!busy && ++tick % 5 !== 0) return;
    data = await load();
    if (!ctx.left) draw();
  });
}

/** ✓ / ✗ per torch version, with PyTorch's reason as the tooltip */
export function weightsOnlyCells(v: VersionRecord): HTMLElement[] {
  const wo = v.scan.weightsOnly;
  if (!wo) return [h('span', { class: 'muted' }, '—')];
  return TORCH_VERSIONS.map((t) => {
    const r = wo.byVersion[t];
    return h(
      'span',
      {
        class: `wo-cell ${r.loads ? 'yes' : 'no'}`,
        title: `torch ${t}: ${r.loads ? 'loads' : `refuses: ${r.reason ?? ''}`}`,
      },
      `${r.loads ? '✓' : '✗'}`,
      h('span', { class: 'sr-only' }, ` torch ${t} ${r.loads ? 'loads' : 'refuses'}`),
    );
  });
}

/** the retention rule in words */
function ruleWords(rule: NonNullable<RetentionPlan['rule']>): string {
  const parts = [
    rule.keepNewest !== null
      ? `keep the newest ${rule.keepNewest} version${rule.keepNewest === 1 ? '' : 's'}`
      : null,
    rule.deleteUnsafeAfterDays !== null
      ? `delete versions that are not safe once they are ${rule.deleteUnsafeAfterDays} day${rule.deleteUnsafeAfterDays === 1 ? '' : 's'} old`
      : null,
    rule.keepTagged ? 'never a version a tag points at' : 'tagged versions too',
  ];
  return parts.filter(Boolean).join(' · ');
}

/** retention: the rule, what it deletes next (the dry run the API makes), and what it deleted */
function retentionParts(plan: RetentionPlan, log: RetentionLogEntry[]): Array<HTMLElement> {
  return [
    h('h2', { id: 'retention-h' }, 'Retention'),
    h(
      'p',
      { id: 'retention-rule' },
      plan.rule
        ? ['Rule: ', ruleWords(plan.rule), '.']
        : h(
            'span',
            { class: 'muted' },
            'No retention rule: nothing is deleted. An admin sets one with PUT …/retention.',
          ),
    ),
    h(
      'div',
      { id: 'retention-plan' },
      h('h3', null, 'Deletes next'),
      plan.delete.length
        ? h(
            'ul',
            null,
            plan.delete.map((d) =>
              h('li', { 'data-version': d.version }, h('strong', null, d.version), ` — ${d.reason}`),
            ),
          )
        : h(
            'p',
            { class: 'muted' },
            `Nothing to delete: ${plan.keep === 1 ? '1 version stays' : `${plan.keep} versions stay`}.`,
          ),
    ),
    h(
      'div',
      { id: 'retention-log' },
      h('h3', null, 'Deleted by retention'),
      log.length
        ? h(
            'ul',
            null,
            log.map((d) =>
              h(
                'li',
                { 'data-version': d.version },
                h('del', null, d.version),
                ' ',
                timeEl(d.deletedAt),
                ` — ${d.reason} · SHA-256 `,
                sha(d.sha256),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Nothing deleted yet.'),
    ),
  ];
}
