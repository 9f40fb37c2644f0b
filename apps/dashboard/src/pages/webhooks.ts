import type { EventType } from '@brine/contracts';
import { api, enc, ENDPOINTS, type Delivery } from '../api.js';
import { h, listTable, mount } from '../dom.js';
import { timeEl } from '../format.js';
import type { PageContext } from '../page-context.js';

const EVENTS: EventType[] = [
  'scan.unsafe',
  'scan.completed',
  'version.created',
  'version.deleted',
  'tag.moved',
];

/** webhook subscriptions (admin) and the delivery log of the one selected */
export async function webhooksPage(ctx: PageContext): Promise<void> {
  let hooks = await api(ENDPOINTS.listWebhooks, {});
  let selected: string | null = ctx.query.get('id') ?? hooks[0]?.id ?? null;
  let deliveries: Delivery[] = [];

  const list = h('tbody');
  const log = h('section', { class: 'card', 'aria-labelledby': 'log-h' });
  const secretBox = h('div', { 'aria-live': 'polite' });

  const loadLog = async () => {
    deliveries = selected
      ? await api(ENDPOINTS.deliveries, { params: { id: selected }, query: { limit: 100 } })
      : [];
  };
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      hooks = await api(ENDPOINTS.listWebhooks, {});
      await loadLog();
      draw();
    } catch (e) {
      ctx.notice((e as Error).message);
    }
  };

  const draw = () => {
    mount(
      list,
      hooks.length
        ? null
        : h('tr', null, h('td', { colspan: 4, class: 'muted' }, 'No subscriptions yet: create one below.')),
      hooks.map((w) =>
        h(
          'tr',
          { 'data-webhook': w.id, class: w.id === selected ? 'selected' : null },
          h(
            'th',
            { scope: 'row' },
            h('code', null, w.url),
            w.description ? h('div', { class: 'muted' }, w.description) : null,
          ),
          h('td', null, w.events.join(', ')),
          h(
            'td',
            null,
            w.enabled
              ? h('span', { class: 'badge safe' }, 'enabled')
              : [
                  h('span', { class: 'badge dangerous' }, 'disabled'),
                  h('div', { class: 'muted' }, w.disabledReason ?? ''),
                ],
            w.consecutiveFailures
              ? h('div', { class: 'muted' }, `${w.consecutiveFailures} failures in a row`)
              : null,
          ),
          h(
            'td',
            { class: 'buttons' },
            h(
              'button',
              {
                type: 'button',
                'aria-pressed': w.id === selected ? 'true' : 'false',
                onclick: () =>
                  void act(async () => {
                    selected = w.id;
                  }),
              },
              'Delivery log',
            ),
            h(
              'button',
              {
                type: 'button',
                onclick: () => void act(() => api(ENDPOINTS.testWebhook, { params: { id: w.id } })),
              },
              'Send test',
            ),
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void act(() =>
                    api(ENDPOINTS.updateWebhook, { params: { id: w.id }, body: { enabled: !w.enabled } }),
                  ),
              },
              w.enabled ? 'Disable' : 'Enable',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'danger',
                onclick: () => {
                  if (!confirm(`Delete the subscription to ${w.url}? Its delivery log goes with it.`)) return;
                  void act(async () => {
                    await api(ENDPOINTS.deleteWebhook, { params: { id: w.id } });
                    if (selected === w.id) selected = null;
                  });
                },
              },
              'Delete',
            ),
          ),
        ),
      ),
    );
    const hook = hooks.find((w) => w.id === selected);
    mount(
      log,
      h('h2', { id: 'log-h' }, hook ? `Deliveries to ${hook.url}` : 'Deliveries'),
      !hook
        ? h('p', { class: 'muted' }, 'Choose a subscription to see its deliveries.')
        : deliveries.length === 0
          ? h('p', { class: 'muted' }, 'Nothing has been sent to it yet.')
          : listTable(
              ['Created', 'Event', 'Status', 'Attempts', 'Last response', 'Latency', 'Next try', ''],
              h(
                'tbody',
                null,
                deliveries.map((d) => {
                  const last = d.attempts[d.attempts.length - 1];
                  return h(
                    'tr',
                    { 'data-delivery': d.id, 'data-status': d.status },
                    h('td', null, timeEl(d.createdAt)),
                    h(
                      'td',
                      { class: 'event' },
                      h('code', null, d.event),
                      // what the event is about (a test event is about nothing)
                      d.checkpoint
                        ? h(
                            'div',
                            { class: 'about' },
                            d.version
                              ? h(
                                  'a',
                                  { href: `#/checkpoints/${enc(d.checkpoint)}/${enc(d.version)}` },
                                  `${d.checkpoint}:${d.version}`,
                                )
                              : h('a', { href: `#/checkpoints/${enc(d.checkpoint)}` }, d.checkpoint),
                          )
                        : null,
                    ),
                    h('td', null, h('span', { class: `badge ${DELIVERY_BADGE[d.status]}` }, d.status)),
                    h('td', { class: 'num' }, String(d.attemptCount)),
                    h(
                      'td',
                      null,
                      last ? (last.statusCode === null ? 'no response' : `HTTP ${last.statusCode}`) : '—',
                      last?.error ? h('div', { class: 'muted' }, last.error) : null,
                      last?.response ? h('div', null, h('code', { class: 'excerpt' }, last.response)) : null,
                    ),
                    h('td', { class: 'num' }, last ? `${last.latencyMs} ms` : '—'),
                    h('td', null, d.status === 'pending' ? timeEl(d.nextAttemptAt) : '—'),
                    h(
                      'td',
                      null,
                      h(
                        'button',
                        {
                          type: 'button',
                          onclick: () =>
                            void act(() =>
                              api(ENDPOINTS.redeliver, { params: { id: hook.id, deliveryId: d.id } }),
                            ),
                        },
                        'Redeliver',
                      ),
                    ),
                  );
                }),
              ),
              { class: 'deliveries' },
            ),
    );
  };

  const url = h('input', {
    type: 'url',
    id: 'hook-url',
    required: true,
    placeholder: 'https://hooks.example.com/brine',
  });
  const boxes = EVENTS.map((e) =>
    h('input', { type: 'checkbox', id: `ev-${e}`, value: e, checked: e === 'scan.unsafe' }),
  );
  const form = h(
    'form',
    {
      class: 'card create',
      'aria-labelledby': 'create-h',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void act(async () => {
          const events = EVENTS.filter((_, i) => boxes[i].checked);
          const created = await api(ENDPOINTS.createWebhook, {
            body: { url: url.value.trim(), events },
          });
          selected = created.id;
          url.value = '';
          mount(
            secretBox,
            h(
              'p',
              { class: 'notice info' },
              'Subscription created. Its signing secret is shown only now — keep it: ',
              h('code', null, created.secret),
            ),
          );
        });
      },
    },
    h('h2', { id: 'create-h' }, 'New subscription'),
    h('label', { for: 'hook-url' }, 'URL '),
    url,
    h(
      'fieldset',
      null,
      h('legend', null, 'Events'),
      EVENTS.map((e, i) => h('label', { class: 'check' }, boxes[i], ` ${e}`)),
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Subscribe'),
    secretBox,
  );

  await loadLog();
  mount(
    ctx.main,
    h('h1', null, 'Webhooks'),
    h(
      'p',
      { class: 'muted' },
      'Signed with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). Failed deliveries are retried with back-off for about a day.',
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'subs-h' },
      h('h2', { id: 'subs-h' }, 'Subscriptions'),
      listTable(['URL', 'Events', 'State', ''], list),
    ),
    log,
    form,
  );
  draw();

  ctx.every(2000, async () => {
    await loadLog();
    hooks = await api(ENDPOINTS.listWebhooks, {});
    if (!ctx.left) draw();
  });
}

const DELIVERY_BADGE: Record<Delivery['status'], string> = {
  pending: 'pending',
  succeeded: 'safe',
  failed: 'dangerous',
  abandoned: 'unknown',
};
